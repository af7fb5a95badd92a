/**
 * Reading campaigns: each function answers one question from the read model, with the 404 that
 * names what is missing. Routes turn the rows into responses (./views).
 */
import diff from 'microdiff';
import type { Draft } from '../domain/types';
import {
  specOfRow,
  type CampaignFilter,
  type CampaignRow,
  type CampaignStore,
  type VersionRow,
} from '../readmodel/campaigns';
import { campaignCursor, historyCursor, page } from './cursor';
import { HttpProblem } from './problem';

export interface VersionChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

/** The draft, or 404 NO_DRAFT. */
export function requireDraft(draft: Draft | null): Draft {
  if (!draft) throw new HttpProblem(404, 'NO_DRAFT', 'campaign has no draft');
  return draft;
}

export function campaignQueries(campaigns: CampaignStore) {
  /** The campaign's row, or 404. */
  async function campaign(id: string): Promise<CampaignRow> {
    const row = await campaigns.find(id);
    if (!row) throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`);
    return row;
  }

  /**
   * Version `number` of a campaign, or 404 for either (`campaignKnown`: the caller reads the
   * campaign's row itself, so it is not read twice).
   */
  async function version(id: string, number: number, campaignKnown = false): Promise<VersionRow> {
    if (!campaignKnown) await campaign(id);
    const row = await campaigns.version(id, number);
    if (!row) throw new HttpProblem(404, 'NO_SUCH_VERSION', `campaign has no version ${number}`);
    return row;
  }

  return {
    campaign,
    version,

    /** A page of the list and the cursor of the next one. */
    async list(filter: CampaignFilter, limit: number, cursor?: string) {
      const after = cursor ? campaignCursor.decode(cursor) : undefined;
      const rows = await campaigns.list(filter, limit, after);
      return page(rows, limit, campaignCursor, (row) => ({ createdAt: row.createdAt, id: row.id }));
    },

    async draft(id: string): Promise<Draft> {
      return requireDraft((await campaign(id)).draft as Draft | null);
    },

    /** "Open live version": the version that runs, unchanged by any draft. */
    async live(id: string): Promise<VersionRow> {
      const row = await campaign(id);
      if (row.liveVersion === null) {
        throw new HttpProblem(404, 'NO_LIVE_VERSION', 'campaign was never activated');
      }
      return version(id, row.liveVersion);
    },

    async versions(id: string): Promise<VersionRow[]> {
      await campaign(id);
      return campaigns.versions(id);
    },

    /** Field-level changes from version a to version b. */
    async diff(id: string, a: number, b: number): Promise<VersionChange[]> {
      const [from, to] = await Promise.all([version(id, a), version(id, b)]);
      return diff({ ...specOfRow(from) }, { ...specOfRow(to) }).map((d) => ({
        path: d.path.join('.'),
        kind: d.type === 'CREATE' ? 'added' : d.type === 'REMOVE' ? 'removed' : 'changed',
        ...('oldValue' in d ? { from: d.oldValue } : {}),
        ...('value' in d ? { to: d.value } : {}),
      }));
    },

    /** Whether the campaign was deleted (its history, kept, records the delete). */
    wasDeleted: (id: string): Promise<boolean> => campaigns.wasDeleted(id),

    /** A page of the audit trail and the cursor of the next one. */
    async history(id: string, limit: number, cursor?: string) {
      const after = cursor ? historyCursor.decode(cursor) : undefined;
      await campaign(id);
      const rows = await campaigns.history(id, limit, after);
      return page(rows, limit, historyCursor, (row) => ({ at: row.at, id: row.id }));
    },
  };
}

export type CampaignQueries = ReturnType<typeof campaignQueries>;
