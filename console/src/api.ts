/**
 * The console's only way to the service: the public /v1 API, with the signed-in key. Errors come back
 * as problem documents (RFC 9457) and are turned into sentences, never shown as JSON.
 */
import type { z } from 'zod';
// One schema module at a time (not the index): the console never reaches the server-only ones.
import type {
  activationSchema,
  campaignListSchema,
  campaignSchema,
  draftSchema,
  historySchema,
  stopResponseSchema,
  versionSchema,
} from '../../api/schemas/campaigns';
import type { messageListSchema, runListSchema } from '../../delivery/http/schemas';
import type { meSchema } from '../../api/schemas/keys';
import type { previewSchema } from '../../api/schemas/preview';
import type { reportSchema } from '../../reports/http/report-shape';

export type Campaign = z.infer<typeof campaignSchema>;
export type CampaignList = z.infer<typeof campaignListSchema>;
export type Draft = z.infer<typeof draftSchema>;
export type Version = z.infer<typeof versionSchema>;
export type History = z.infer<typeof historySchema>;
export type Me = z.infer<typeof meSchema>;
export type Runs = z.infer<typeof runListSchema>;
export type Messages = z.infer<typeof messageListSchema>;
export type Activation = z.infer<typeof activationSchema>;
export type StopResponse = z.infer<typeof stopResponseSchema>;
export type StopReceipt = StopResponse['receipt'];
export type Content = Draft['content'];
export type Preview = z.infer<typeof previewSchema>;
export type Schedule = Draft['schedule'];
export type Report = z.infer<typeof reportSchema>;
export type ReportFigures = Report['figures'];
export type ReportRates = Report['rates'];

export interface FieldProblem {
  field: string;
  message: string;
}

/** A refused request: the problem document's code, sentence and field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(detail);
  }

  /** One sentence for people: the detail, capitalised, with a full stop. */
  get sentence(): string {
    const text = this.detail.trim() || `The request failed (${this.status})`;
    return `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
  }
}

/** A sentence for any error a call can throw. */
export function errorSentence(error: unknown): string {
  if (error instanceof ApiError) return error.sentence;
  return 'The service could not be reached; check your connection and try again.';
}

export interface Reply<T> {
  body: T;
  etag: string | null;
}

export class Api {
  constructor(private readonly key: string) {}

  async call<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const res = await fetch(path, {
      method,
      // Never the HTTP cache: a new draft restarts at revision 1, so its ETag repeats an older draft's
      // and a revalidation (If-None-Match) would answer 304 with the old body.
      cache: 'no-store',
      headers: {
        Authorization: `Bearer ${this.key}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const problem = (parsed ?? {}) as Partial<{ code: string; detail: string; errors: FieldProblem[] }>;
      throw new ApiError(res.status, problem.code ?? 'UNKNOWN', problem.detail ?? '', problem.errors ?? []);
    }
    return { body: parsed as T, etag: res.headers.get('ETag') };
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path).then((r) => r.body);
  }

  me = () => this.get<Me>('/v1/me');
  list = (query: URLSearchParams) => this.get<CampaignList>(`/v1/campaigns?${query}`);
  campaign = (id: string) => this.get<Campaign>(`/v1/campaigns/${id}`);
  draft = (id: string) => this.call<Draft>('GET', `/v1/campaigns/${id}/draft`);
  live = (id: string) => this.get<Version>(`/v1/campaigns/${id}/live`);
  versions = (id: string) => this.get<{ items: Version[] }>(`/v1/campaigns/${id}/versions`);
  /** Every page of a paged list (history, runs: short lists, shown whole), 500 rows at a time. */
  private async allPages<T extends { items: unknown[]; nextCursor: string | null }>(
    path: string,
  ): Promise<T> {
    const first = await this.get<T>(`${path}?limit=500`);
    for (let page = first; page.nextCursor;) {
      page = await this.get<T>(`${path}?limit=500&cursor=${encodeURIComponent(page.nextCursor)}`);
      first.items.push(...page.items);
    }
    return { ...first, nextCursor: null };
  }

  history = (id: string) => this.allPages<History>(`/v1/campaigns/${id}/history`);
  runs = (id: string) => this.allPages<Runs>(`/v1/campaigns/${id}/runs`);
  messages = (id: string) => this.get<Messages>(`/v1/campaigns/${id}/messages?limit=50`);

  /** `kind` live or global; `query` holds from, to and compare when set. */
  report = (id: string, kind: 'live' | 'global', query: URLSearchParams) =>
    this.get<Report>(`/v1/campaigns/${id}/report/${kind}?${query}`);
  /** The same report as CSV text (`Accept: text/csv`). */
  async reportCsv(id: string, kind: 'live' | 'global', query: URLSearchParams): Promise<Blob> {
    const res = await fetch(`/v1/campaigns/${id}/report/${kind}?${query}`, {
      cache: 'no-store',
      headers: { Authorization: `Bearer ${this.key}`, Accept: 'text/csv' },
    });
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as Partial<{ code: string; detail: string }>;
      throw new ApiError(res.status, problem.code ?? 'UNKNOWN', problem.detail ?? '');
    }
    return res.blob();
  }

  preview = (content: Content) => this.call<Preview>('POST', '/v1/preview', { content }).then((r) => r.body);
  editDraft = (id: string, edit: object, etag: string) =>
    this.call<Draft>('PATCH', `/v1/campaigns/${id}/draft`, edit, { 'If-Match': etag });
  modify = (id: string) => this.call<Draft>('POST', `/v1/campaigns/${id}/modify`, {});
  activate = (id: string, etag: string) =>
    this.call<Activation>('POST', `/v1/campaigns/${id}/activate`, {}, { 'If-Match': etag });
  discard = (id: string) => this.call<void>('DELETE', `/v1/campaigns/${id}/draft`);
  duplicate = (id: string) => this.call<Campaign>('POST', `/v1/campaigns/${id}/duplicate`, {});
  stop = (id: string, mode: 'cancel' | 'drain') =>
    this.call<StopResponse>('POST', `/v1/campaigns/${id}/stop`, { mode });
  rollback = (id: string, version: number) =>
    this.call<Draft>('POST', `/v1/campaigns/${id}/rollback`, { version });
}
