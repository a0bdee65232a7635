import { seededRandom } from '../random';
import { SimRequest, SimResponse } from '../http-server';
import { VpnPanelCounters, VpnPanelSimulator, VpnPanelSimulatorOptions } from './vpn-panel-simulator';
import { VpnUser, VpnUserFields } from './vpn-users';

/**
 * Where an answer carries the user's traffic, in the order seed 004 tries them (docs/vpn-panels-api.md):
 * `userInfo.total_traffic_bytes`, `userInfo.upload_bytes` + `userInfo.download_bytes`, `data.data_used`, none.
 */
export const EYLANDOO_FIELD_SHAPES = ['total_traffic_bytes', 'upload_download', 'data_used', 'none'] as const;
export type EylandooFieldShape = (typeof EYLANDOO_FIELD_SHAPES)[number];

export interface EylandooPaths {
  /** The user lookup, with `{username}` where the username goes (URL-encoded). */
  user: string;
}

export const EYLANDOO_DEFAULT_PATHS: EylandooPaths = { user: '/api/v1/users/{username}' };

export interface EylandooSimulatorOptions extends VpnPanelSimulatorOptions {
  apiKey?: string;
  /** The panel's routes, when a real panel's differ from the inferred ones. */
  paths?: Partial<EylandooPaths>;
  /**
   * Relative weights of the field shapes generated users get (a shape not named gets 0). Default 4:3:2:1 in the
   * seed's order, so every branch of the fallback chain shows up among a few users.
   */
  shapeWeights?: Partial<Record<EylandooFieldShape, number>>;
}

export interface EylandooUserFields extends VpnUserFields {
  shape?: EylandooFieldShape;
}

/** The inferred `userInfo` object: identity and limits always, traffic only in the shapes that carry it there. */
export interface EylandooUserInfo {
  username: string;
  status: string;
  /** 0 is unlimited. */
  traffic_limit_bytes: number;
  expiry_date: string | null;
  created_at: string;
  total_traffic_bytes?: number;
  upload_bytes?: number;
  download_bytes?: number;
}

export interface EylandooUserAnswer {
  success: true;
  userInfo: EylandooUserInfo;
  data?: { username: string; data_used?: number; data_limit?: number };
}

export type EylandooCounters = VpnPanelCounters;

const DEFAULT_WEIGHTS: Record<EylandooFieldShape, number> = {
  total_traffic_bytes: 4,
  upload_download: 3,
  data_used: 2,
  none: 1,
};
/** Flask's own 500 page: what a panel error looks like behind the proxy (HTML, longer than a 200-char preview). */
const FLASK_500 =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n' +
  '<p>The server encountered an internal error and was unable to complete your request. Either the server is ' +
  'overloaded or there is an error in the application.</p>\n';
const FLASK_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was ' +
  'not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

function html(status: number, text: string): SimResponse {
  return { status, text, headers: { 'content-type': 'text/html; charset=utf-8' } };
}

function fail(status: number, message: string): SimResponse {
  return { status, body: { success: false, message } };
}

/** `/api/v1/users/{username}` → a regex capturing the username, and the route key `/api/v1/users/:username`. */
function compileUserPath(template: string): { pattern: RegExp; key: string } {
  if (!template.startsWith('/') || template.split('{username}').length !== 2)
    throw new Error(`An Eylandoo user path must start with / and hold {username} once: ${template}`);
  const [before, after] = template.split('{username}').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return { pattern: new RegExp(`^${before}([^/]+)${after}$`), key: template.replace('{username}', ':username') };
}

function isoDate(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
}

/**
 * An Eylandoo ("OVPN Manager") panel as docs/vpn-panels-api.md infers it: `GET {url}/api/v1/users/{username}` with
 * the panel's key in `X-API-Key` (paths configurable). Each user's answer carries its traffic in one of the shapes
 * seed 004 falls back through, picked per user from (seed, username) or forced with setUserShape().
 */
export class EylandooSimulator extends VpnPanelSimulator<EylandooCounters> {
  readonly apiKey: string;
  readonly paths: EylandooPaths;

  private readonly userPath: { pattern: RegExp; key: string };
  private readonly weights: Array<[EylandooFieldShape, number]>;
  private readonly totalWeight: number;
  private readonly forcedShapes = new Map<string, EylandooFieldShape>();

  constructor(options: EylandooSimulatorOptions = {}) {
    super(options, {});
    this.apiKey = options.apiKey ?? 'sim-eylandoo-key-0001';
    this.paths = { ...EYLANDOO_DEFAULT_PATHS, ...options.paths };
    this.userPath = compileUserPath(this.paths.user);
    const weights = options.shapeWeights
      ? { total_traffic_bytes: 0, upload_download: 0, data_used: 0, none: 0, ...options.shapeWeights }
      : DEFAULT_WEIGHTS;
    this.weights = EYLANDOO_FIELD_SHAPES.map((shape) => [shape, weights[shape]]);
    this.totalWeight = this.weights.reduce((sum, [, w]) => sum + w, 0);
    if (this.weights.some(([, w]) => !(w >= 0)) || !(this.totalWeight > 0))
      throw new Error('shapeWeights must be non-negative numbers, at least one of them positive');
  }

  /** The user lookup URL of a username, as a client should build it. */
  userUrl(username: string): string {
    return `${this.url}${this.paths.user.replace('{username}', encodeURIComponent(username))}`;
  }

  /** The field shape the user's answers use; null for an unknown user. */
  userShape(username: string): EylandooFieldShape | null {
    const user = this.users.get(username);
    return user ? this.shapeOf(user) : null;
  }

  /** Forces the user's field shape; null goes back to the one (seed, username) picks. */
  setUserShape(username: string, shape: EylandooFieldShape | null): void {
    if (!this.users.get(username)) throw new Error(`No VPN user ${username}`);
    if (shape === null) this.forcedShapes.delete(username);
    else if (!EYLANDOO_FIELD_SHAPES.includes(shape)) throw new Error(`Unknown Eylandoo field shape: ${String(shape)}`);
    else this.forcedShapes.set(username, shape);
  }

  /** Adds (or replaces) a user; `shape` forces its field shape. */
  override addUser(username: string, fields: EylandooUserFields = {}): VpnUser {
    const { shape, ...rest } = fields;
    const user = super.addUser(username, rest);
    this.forcedShapes.delete(username);
    if (shape !== undefined) this.setUserShape(username, shape);
    return user;
  }

  override removeUser(username: string): boolean {
    this.forcedShapes.delete(username);
    return super.removeUser(username);
  }

  /** The answer the user's next read would get, for tests that compare (no read served, no growth). */
  answerFor(user: VpnUser): EylandooUserAnswer {
    const info: EylandooUserInfo = {
      username: user.username,
      status: user.status,
      traffic_limit_bytes: user.dataLimitBytes ?? 0,
      expiry_date: isoDate(user.expireAtMs),
      created_at: new Date(user.createdAtMs).toISOString(),
    };
    const used = user.usedBytes;
    switch (this.shapeOf(user)) {
      case 'total_traffic_bytes':
        return { success: true, userInfo: { ...info, total_traffic_bytes: used } };
      case 'upload_download': {
        const upload = Math.floor(used * user.uploadShare);
        return { success: true, userInfo: { ...info, upload_bytes: upload, download_bytes: used - upload } };
      }
      // These two keep a userInfo without traffic in it: a client must look for the fields, not the object.
      case 'data_used':
        return {
          success: true,
          userInfo: info,
          data: { username: user.username, data_used: used, data_limit: user.dataLimitBytes ?? 0 },
        };
      case 'none':
        return { success: true, userInfo: info, data: { username: user.username } };
    }
  }

  // ---- HTTP ----

  protected routeKey(req: SimRequest): string | null {
    return this.userPath.pattern.test(req.path) ? `${req.method} ${this.userPath.key}` : null;
  }

  protected serve(req: SimRequest): SimResponse {
    if (req.method !== 'GET') return { ...fail(405, 'Method not allowed'), headers: { allow: 'GET' } };
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !key) {
      this.counters.unauthorized++;
      return fail(401, 'API key required');
    }
    if (key !== this.apiKey) {
      this.counters.unauthorized++;
      return fail(403, 'Invalid API key');
    }
    let username: string;
    try {
      username = decodeURIComponent(req.path.match(this.userPath.pattern)![1]);
    } catch {
      username = '';
    }
    const user = this.readUser(username);
    return user ? { status: 200, body: this.answerFor(user) } : fail(404, 'User not found');
  }

  protected internalError(): SimResponse {
    return html(500, FLASK_500);
  }

  protected noRoute(): SimResponse {
    return html(404, FLASK_404);
  }

  protected override panelControl(req: SimRequest, body: Record<string, unknown>): SimResponse | null {
    const shape = req.path.match(/^\/__simulator\/users\/([^/]+)\/shape$/);
    if (!shape || req.method !== 'POST') return null;
    const username = decodeURIComponent(shape[1]);
    this.setUserShape(username, (body.shape ?? null) as EylandooFieldShape | null);
    return { status: 200, body: { username, shape: this.userShape(username) } };
  }

  protected override panelState(): Record<string, unknown> {
    return { paths: this.paths, forcedShapes: Object.fromEntries(this.forcedShapes) };
  }

  private shapeOf(user: VpnUser): EylandooFieldShape {
    const forced = this.forcedShapes.get(user.username);
    if (forced) return forced;
    let roll = seededRandom(user.hash ^ 0x5eed)() * this.totalWeight;
    for (const [shape, weight] of this.weights) {
      if (roll < weight) return shape;
      roll -= weight;
    }
    return this.weights.filter(([, w]) => w > 0).at(-1)![0];
  }
}
