/**
 * Consent as a ledger, on the real stack (dev server, worker, SMTP, PostgreSQL, the Express app): an
 * unsubscribe, a hard bounce and a complaint survive a profile sync and exclude the profile from the
 * next run, each recorded with who, when and from which source; only an explicit consent change
 * re-subscribes, and it is recorded too.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTrackingStack, type TrackingStack } from './harness/tracking';

describe('consent on the real stack', () => {
  let t: TrackingStack;
  beforeAll(async () => {
    t = await startTrackingStack('consent');
  });
  afterAll(() => t?.stop());

  const profile = async (id: string) =>
    (await request(t.app).get(`/v1/profiles/${id}`).set('Authorization', t.keys.viewer).expect(200)).body;
  const history = async (id: string) =>
    (await request(t.app).get(`/v1/profiles/${id}/consent`).set('Authorization', t.keys.viewer).expect(200))
      .body;

  it('keeps an unsubscribe, a hard bounce and a complaint through a profile sync; an explicit change re-subscribes', async () => {
    const first = await t.sentCampaign(3);
    const [unsubscriber, bouncer, complainer] = first.ids;
    const started = Date.now();

    // The scenario: a one-click unsubscribe, then a sync with the same id and email and no
    // `subscribed`.
    const link = first.messages.find((m) => m.profile_id === unsubscriber)!.rendered.listUnsubscribe;
    await request(t.app).post(new URL(link).pathname).expect(200);
    const put = await request(t.app)
      .put('/v1/profiles')
      .set('Authorization', t.keys.editor)
      .send({ profiles: [{ id: unsubscriber, email: `${unsubscriber}@example.com` }] })
      .expect(200);
    expect(await profile(unsubscriber)).toMatchObject({ subscribed: false });
    expect(put.body).toEqual({ upserted: 1, consentKept: [] });
    expect(await profile(unsubscriber)).toMatchObject({ consent: 'unsubscribed' });

    // A hard bounce and a complaint, then a sync that says `subscribed: true` for all three.
    await request(t.app)
      .post('/v1/events')
      .set('Authorization', t.keys.publisher)
      .send({
        events: [
          { messageId: `${first.id}:1:${bouncer}`, type: 'bounced', bounce: 'hard' },
          { messageId: `${first.id}:1:${complainer}`, type: 'complained' },
        ],
      })
      .expect(200);
    const sync = await request(t.app)
      .put('/v1/profiles')
      .set('Authorization', t.keys.editor)
      .send({
        profiles: first.ids.map((id) => ({ id, email: `${id}@example.com`, subscribed: true })),
      })
      .expect(200);
    expect(sync.body).toEqual({ upserted: 3, consentKept: [unsubscriber, bouncer, complainer].sort() });

    // The next run excludes all three.
    const second = await t.sentCampaign(3, first);
    expect(second.messages.map((m) => [m.profile_id, m.status, m.reason])).toEqual(
      first.ids.map((id) => [id, 'excluded', 'unsubscribed']),
    );

    // The ledger: who, when, from which source.
    const change = (source: string, status: string, actor: string | RegExp) => ({
      status,
      source,
      actor: typeof actor === 'string' ? actor : expect.stringMatching(actor),
      at: expect.any(String),
    });
    const unsubscribed = await history(unsubscriber);
    expect(unsubscribed).toMatchObject({
      consent: 'unsubscribed',
      changes: [change('unsubscribe_link', 'unsubscribed', 'recipient')],
    });
    expect(Date.parse(unsubscribed.changes[0].at)).toBeGreaterThanOrEqual(started - 1000);
    expect((await history(bouncer)).changes).toEqual([
      expect.objectContaining(change('bounce', 'suppressed', /^publisher-/)),
    ]);
    expect((await history(complainer)).changes).toEqual([
      expect.objectContaining(change('complaint', 'suppressed', /^publisher-/)),
    ]);

    // Re-subscribing is an explicit change, recorded with its actor, source and note.
    const resubscribed = await request(t.app)
      .post(`/v1/profiles/${unsubscriber}/consent`)
      .set('Authorization', t.keys.editor)
      .send({ status: 'subscribed', source: 'form', note: 'double opt-in confirmed' })
      .expect(201);
    expect(resubscribed.body).toMatchObject({
      ...change('form', 'subscribed', /^editor-/),
      note: 'double opt-in confirmed',
    });
    expect((await history(unsubscriber)).changes.map((c: { source: string }) => c.source)).toEqual([
      'form',
      'unsubscribe_link',
    ]);
    const third = await t.sentCampaign(3, first);
    expect(third.messages.map((m) => [m.profile_id, m.status])).toEqual([
      [unsubscriber, 'sent'],
      [bouncer, 'excluded'],
      [complainer, 'excluded'],
    ]);
  });

  it('an unsubscribe from a triggered message withdraws the consent of the profile it went to', async () => {
    const profileId = `triggered-${randomUUID().slice(0, 8)}`;
    await request(t.app)
      .put('/v1/profiles')
      .set('Authorization', t.keys.editor)
      .send({ profiles: [{ id: profileId, email: `${profileId}@example.com` }] })
      .expect(200);
    // A sent execution of two messages: one to the profile, one to an address alone.
    const [campaignId, executionId] = [randomUUID(), randomUUID()];
    await t.pool.query(
      `INSERT INTO executions (id, campaign_id, version, category, status, requested_by)
       VALUES ($1, $2, 1, 'marketing', 'completed', 'tester')`,
      [executionId, campaignId],
    );
    await t.pool.query(
      `INSERT INTO execution_messages (execution_id, recipient, campaign_id, version, profile_id, address, status)
       VALUES ($1, 0, $2, 1, $3, NULL, 'sent'), ($1, 1, $2, 1, NULL, 'someone@example.com', 'sent')`,
      [executionId, campaignId, profileId],
    );
    const link = (recipient: string) =>
      `/t/u/${t.token({ kind: 'u', campaignId, version: 1, source: 'execution', sourceId: executionId, recipient })}`;
    await request(t.app).post(link('1')).expect(200);
    expect((await history(profileId)).changes).toHaveLength(1); // only its creation
    await request(t.app).post(link('0')).expect(200);
    expect(await history(profileId)).toMatchObject({
      consent: 'unsubscribed',
      changes: [
        {
          status: 'unsubscribed',
          source: 'unsubscribe_link',
          actor: 'recipient',
          note: `campaign ${campaignId}, execution ${executionId}`,
        },
        { status: 'subscribed', source: 'api', note: 'profile created' },
      ],
    });
  });

  it('records consent a profile write sets, and refuses what an explicit change may not say', async () => {
    const id = `consent-${Date.now()}`;
    const put = (subscribed?: boolean) =>
      request(t.app)
        .put('/v1/profiles')
        .set('Authorization', t.keys.editor)
        .send({ profiles: [{ id, ...(subscribed === undefined ? {} : { subscribed }) }] })
        .expect(200);
    await put();
    await put();
    await put(false);
    await put(true);
    const { body } = await request(t.app)
      .get(`/v1/profiles/${id}/consent?limit=1`)
      .set('Authorization', t.keys.viewer)
      .expect(200);
    expect(body.consent).toBe('unsubscribed');
    expect(body.changes).toEqual([expect.objectContaining({ status: 'unsubscribed', source: 'api' })]);
    const older = await request(t.app)
      .get(`/v1/profiles/${id}/consent?before=${body.changes[0].id}`)
      .set('Authorization', t.keys.viewer)
      .expect(200);
    expect(older.body.changes).toEqual([
      expect.objectContaining({ status: 'subscribed', source: 'api', note: 'profile created' }),
    ]);

    const refused = await request(t.app)
      .post(`/v1/profiles/${id}/consent`)
      .set('Authorization', t.keys.editor)
      .send({ status: 'subscribed', source: 'bounce' })
      .expect(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'source' })]);
    await request(t.app)
      .post(`/v1/profiles/${id}-none/consent`)
      .set('Authorization', t.keys.editor)
      .send({ status: 'subscribed', source: 'api' })
      .expect(404);
    await request(t.app)
      .post(`/v1/profiles/${id}/consent`)
      .set('Authorization', t.keys.viewer)
      .send({ status: 'subscribed', source: 'api' })
      .expect(403);
    expect((await profile(id)).subscribed).toBe(false);
  });
});
