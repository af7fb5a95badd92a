/** The console's shell: sign-in, the header, and the page the hash route names. */
import './styles/base.css';
import './styles/components.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CampaignList } from './list/CampaignList';
import { CampaignPage } from './campaign/CampaignPage';
import { useRoute } from './router';
import { resume, signOut, type Session } from './session';
import { SignIn } from './SignIn';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    void resume().then((s) => setSession(s ?? null));
  }, []);
  useEffect(() => {
    document.title = route.page === 'list' ? 'Campaigns · Campaign console' : 'Campaign · Campaign console';
  }, [route]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Campaign console
        </a>
        <nav aria-label="Main">
          <a href="#/">Campaigns</a>
        </nav>
        <p class="who">
          Signed in as <strong>{session.me.name}</strong> ({session.me.role})
        </p>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            signOut();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === 'list' ? (
          <CampaignList session={session} />
        ) : (
          <CampaignPage key={route.id} session={session} id={route.id} tab={route.tab} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('root')!);
