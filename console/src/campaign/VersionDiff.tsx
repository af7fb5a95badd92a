/** Two versions side by side, one row per changed field (GET …/versions/:a/diff/:b). */
import type { Campaign } from '../api';
import type { Session } from '../session';
import { ErrorLine, useLoad } from '../ui';
import { fieldName } from './fields';

const show = (value: unknown) =>
  value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value, null, 1);

export function VersionDiff(props: { session: Session; campaign: Campaign; from: number; to: number }) {
  const { session, campaign, from, to } = props;
  const { data, error } = useLoad(
    () =>
      session.api.get<{ changes: Array<{ path: string; kind: string; from?: unknown; to?: unknown }> }>(
        `/v1/campaigns/${campaign.id}/versions/${from}/diff/${to}`,
      ),
    [session, campaign.id, from, to],
  );
  if (!data) return <ErrorLine message={error} />;
  if (data.changes.length === 0)
    return (
      <p>
        v{from} and v{to} are the same.
      </p>
    );
  return (
    <table class="diff">
      <caption>
        What changed from v{from} to v{to}
      </caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">v{from}</th>
          <th scope="col">v{to}</th>
        </tr>
      </thead>
      <tbody>
        {data.changes.map((change) => (
          <tr key={change.path}>
            <th scope="row">{fieldName(change.path)}</th>
            <td class="multiline removed">{show(change.from)}</td>
            <td class="multiline added">{show(change.to)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
