/**
 * The headline figures operators see in a campaign's current details: the live version's sent,
 * delivered, unique opens and unique clicks, read from the report counters (a local activity). Read
 * once a minute for an hour after the campaign last sent (a run ended, or the trigger dispatcher
 * reported messages), when opens and clicks come in; never otherwise, so an idle campaign adds no
 * history. Behind the `headline-figures` patch: a running campaign's history had no such reads.
 */
import * as wf from '@temporalio/workflow';
import type { CampaignState, HeadlineFigures } from '../domain/types';
import { headlineFigures } from './campaign-activities';
import { workflowNow } from './clock';
import { PATCHES } from './patches';

/** How long after the last send the figures keep being read, and how often. */
const FRESH_FOR_MS = 60 * 60_000;
const EVERY = '1 minute';

/** What the refresher needs of its campaign. */
export interface FiguresHost {
  readonly state: CampaignState;
  /** Records the figures in the state (not a lifecycle change: no revision) and shows them. */
  annotate(notes: { figures: HeadlineFigures }): void;
}

export class HeadlineRefresher {
  private readUntil = 0;
  private running = false;

  constructor(private readonly campaign: FiguresHost) {}

  /** The campaign sent messages: read the figures now, then once a minute for the next hour. */
  sent(): void {
    if (!this.campaign.state.live || !wf.patched(PATCHES.headlineFigures)) return;
    this.readUntil = workflowNow().getTime() + FRESH_FOR_MS;
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (
        workflowNow().getTime() < this.readUntil &&
        this.campaign.state.live &&
        !this.campaign.state.deleted
      ) {
        const version = this.campaign.state.live.number;
        try {
          const f = await headlineFigures({ campaignId: this.campaign.state.id, version });
          this.campaign.annotate({ figures: { version, ...f, at: workflowNow().toISOString() } });
        } catch (error) {
          wf.log.warn('could not read headline figures', { reason: (error as Error).message });
        }
        await wf.sleep(EVERY);
      }
    } finally {
      this.running = false;
    }
  }
}
