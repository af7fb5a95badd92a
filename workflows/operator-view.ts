/**
 * What operators see of a campaign in the Temporal Web UI: the search attributes they filter on
 * (upserted only when they change, to keep history small) and a Markdown card as current details.
 */
import * as wf from '@temporalio/workflow';
import type { NextTransition } from '../domain/automatic';
import type { CampaignState } from '../domain/types';
import { searchAttributes } from './search-attributes';

export class OperatorView {
  /** Search-attribute values last upserted, by attribute name. */
  private readonly shown = new Map<string, unknown>();

  /** Upserts the search attributes that changed, then sets the card. */
  show(state: CampaignState, next: NextTransition | undefined): void {
    const values = [
      { key: searchAttributes.status, value: state.status },
      { key: searchAttributes.hasDraft, value: state.draft !== null },
      { key: searchAttributes.liveVersion, value: state.live?.number ?? null },
      { key: searchAttributes.type, value: state.type },
      { key: searchAttributes.channel, value: state.channel },
      { key: searchAttributes.nextRunAt, value: next ? new Date(next.at) : null },
    ];
    const shown = this.shown;
    // Upserted once a projection has failed (then kept current), so other histories are unchanged.
    const failed = !!state.projectionFailure;
    if (failed || shown.has(searchAttributes.projectionFailed.name)) {
      values.push({ key: searchAttributes.projectionFailed, value: failed });
    }
    const changed = values.filter(
      ({ key, value }) => String(shown.get(key.name)) !== String(value) || !shown.has(key.name),
    );
    if (changed.length) {
      wf.upsertSearchAttributes(changed as Parameters<typeof wf.upsertSearchAttributes>[0]);
      for (const { key, value } of changed) shown.set(key.name, value);
    }
    wf.setCurrentDetails(operatorCard(state, next));
  }
}

/** The Markdown card operators see as the workflow's current details. */
function operatorCard(state: CampaignState, next: NextTransition | undefined): string {
  const { live, draft, runs, stop, triggers, figures } = state;
  const liveVersion = live ? `v${live.number}, activated ${live.activatedAt} by ${live.activatedBy}` : 'none';
  const basedOn = draft?.basedOn ? `, based on v${draft.basedOn}` : '';
  const inFlight = runs.active ? ` (run ${runs.active.number} on v${runs.active.version} in flight)` : '';
  const skipped = runs.skipped ? `; ${runs.skipped} overdue occurrence(s) skipped (a later one ran)` : '';
  return [
    `### ${state.name}`,
    `- **status:** \`${state.status}\``,
    `- **live version:** ${liveVersion}`,
    `- **draft:** ${draft ? `revision ${draft.revision}${basedOn}` : 'none'}`,
    `- **next transition:** ${next ? `${next.to} at ${next.at}` : 'none'}`,
    state.type === 'api_triggered'
      ? `- **triggered:** ${triggers?.executions ?? 0} execution(s) finished, ${triggers?.sent ?? 0} message(s) sent` +
        (triggers?.lastExecution
          ? `; last: \`${triggers.lastExecution.id}\` on v${triggers.lastExecution.version} at ${triggers.lastExecution.at}`
          : '')
      : `- **runs:** ${runs.count}${inFlight}${skipped}`,
    ...(figures
      ? [
          `- **figures (v${figures.version}):** ${figures.sent} sent, ${figures.delivered} delivered, ` +
            `${figures.uniqueOpened} unique opens, ${figures.uniqueClicked} unique clicks (at ${figures.at})`,
        ]
      : []),
    ...(stop ? [`- **stopped:** ${stop.stoppedAt} by ${stop.stoppedBy} (${stop.mode})`] : []),
    ...(state.projectionFailure
      ? [
          `- **projection failed:** revision ${state.projectionFailure.revision} at ` +
            `${state.projectionFailure.at}: ${state.projectionFailure.reason}`,
        ]
      : []),
  ].join('\n');
}
