/** Every version; two of them side by side with what changed; Roll back to this version. */
import { useState } from 'preact/hooks';
import { errorSentence, type Campaign, type Version } from '../api';
import type { Session } from '../session';
import { ErrorLine, useLoad, when } from '../ui';
import { VersionDiff } from './VersionDiff';

interface Props {
  session: Session;
  campaign: Campaign;
  canRollback: boolean;
  onRolledBack: (version: number) => void;
}

export function Versions({ session, campaign: c, canRollback, onRolledBack }: Props) {
  const { data, error } = useLoad(() => session.api.versions(c.id), [session, c.id, c.revision]);
  const [pair, setPair] = useState<[number, number]>();
  const [rollbackError, setRollbackError] = useState('');
  const items: Version[] = data?.items ?? [];
  const [from, to] = pair ?? [Math.max(1, items.length - 1), items.length];

  async function rollback(n: number) {
    setRollbackError('');
    try {
      await session.api.rollback(c.id, n);
      onRolledBack(n);
    } catch (e) {
      setRollbackError(errorSentence(e));
    }
  }

  if (!data) return <ErrorLine message={error} />;
  if (items.length === 0) return <p>No version yet: this campaign was never activated.</p>;
  return (
    <section aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <ErrorLine message={rollbackError} />
      <table>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Activated</th>
            <th scope="col">By</th>
            <th scope="col">Based on</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((v) => (
            <tr key={v.number}>
              <th scope="row">
                v{v.number}
                {v.number === c.liveVersion && ' (live)'}
              </th>
              <td>{when(v.activatedAt)}</td>
              <td>{v.activatedBy}</td>
              <td>{v.basedOn ? `v${v.basedOn}` : '—'}</td>
              <td>
                {canRollback && v.number !== c.liveVersion && (
                  <button type="button" class="secondary" onClick={() => void rollback(v.number)}>
                    Roll back to this version<span class="visually-hidden"> (v{v.number})</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length > 1 && (
        <>
          <h3>Compare</h3>
          <div class="filters">
            {(['from', 'to'] as const).map((side, i) => (
              <div class="field" key={side}>
                <label for={`compare-${side}`}>{side === 'from' ? 'Version' : 'with version'}</label>
                <select
                  id={`compare-${side}`}
                  value={String(i === 0 ? from : to)}
                  onChange={(e) => {
                    const n = Number(e.currentTarget.value);
                    setPair(i === 0 ? [n, to] : [from, n]);
                  }}
                >
                  {items.map((v) => (
                    <option key={v.number} value={v.number}>
                      v{v.number}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
          <VersionDiff session={session} campaign={c} from={from} to={to} />
        </>
      )}
    </section>
  );
}
