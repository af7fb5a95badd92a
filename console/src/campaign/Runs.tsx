/** What the campaign sent: its runs with counts by status, and its latest messages. */
import type { Session } from '../session';
import { ErrorLine, useLoad, when } from '../ui';

export function Runs({ session, id }: { session: Session; id: string }) {
  const { data, error } = useLoad(
    () => Promise.all([session.api.runs(id), session.api.messages(id)]),
    [session, id],
  );
  if (!data) return <ErrorLine message={error} />;
  const [runs, messages] = data;
  return (
    <>
      <section aria-labelledby="runs-heading">
        <h2 id="runs-heading">Runs</h2>
        {runs.items.length === 0 ? (
          <p>No run yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Finished</th>
                <th scope="col">Recipients</th>
                <th scope="col">Messages</th>
              </tr>
            </thead>
            <tbody>
              {runs.items.map((r) => (
                <tr key={r.number}>
                  <td>#{r.number}</td>
                  <td>v{r.version}</td>
                  <td>{r.status}</td>
                  <td>{when(r.startedAt)}</td>
                  <td>{when(r.finishedAt)}</td>
                  <td>{r.recipients}</td>
                  <td>
                    {Object.entries(r.counts)
                      .map(([status, n]) => `${n} ${status}`)
                      .join(', ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="messages-heading">
        <h2 id="messages-heading">Messages</h2>
        {messages.items.length === 0 ? (
          <p>No message yet.</p>
        ) : (
          <table>
            <caption class="visually-hidden">The first {messages.items.length} messages</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Profile</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Sent</th>
              </tr>
            </thead>
            <tbody>
              {messages.items.map((m) => (
                <tr key={`${m.run}-${m.profileId}`}>
                  <td>#{m.run}</td>
                  <td>{m.profileId}</td>
                  <td>v{m.version}</td>
                  <td>{m.status}</td>
                  <td>{m.reason ?? '—'}</td>
                  <td>{when(m.sentAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
