/** The audit trail: who did what, when, on which version. */
import type { Session } from '../session';
import { ErrorLine, useLoad, when } from '../ui';

const ACTIONS: Record<string, string> = {
  create: 'Created',
  describe: 'Renamed, described or tagged',
  edit: 'Edited the draft',
  activate: 'Activated',
  modify: 'Modified (draft from the live version)',
  rollback: 'Rolled back (draft from an earlier version)',
  discard: 'Discarded the draft',
  stop: 'Stopped',
  duplicate: 'Duplicated',
  archive: 'Archived',
  delete: 'Deleted',
};

export function History({ session, id }: { session: Session; id: string }) {
  const { data, error } = useLoad(() => session.api.history(id), [session, id]);
  if (!data) return <ErrorLine message={error} />;
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Version</th>
          </tr>
        </thead>
        <tbody>
          {[...data.items].reverse().map((h) => (
            <tr key={`${h.at}-${h.requestId}-${h.action}`}>
              <td>{when(h.at)}</td>
              <td>{h.actor}</td>
              <td>{ACTIONS[h.action] ?? h.action}</td>
              <td>{h.version === null ? '—' : `v${h.version}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
