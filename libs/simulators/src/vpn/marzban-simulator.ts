import { createHmac, timingSafeEqual } from 'node:crypto';
import { seededRandom } from '../random';
import { SimRequest, SimResponse } from '../http-server';
import { VpnPanelCounters, VpnPanelSimulator, VpnPanelSimulatorOptions } from './vpn-panel-simulator';
import { VpnUser } from './vpn-users';

export interface MarzbanSimulatorOptions extends VpnPanelSimulatorOptions {
  adminUsername?: string;
  adminPassword?: string;
  /** How long an access token is valid; the real default is 1440 minutes (JWT_ACCESS_TOKEN_EXPIRE_MINUTES). */
  tokenTtlMs?: number;
}

export interface MarzbanCounters extends VpnPanelCounters {
  /** 200 answers to POST /api/admin/token. */
  tokensIssued: number;
  /** Requests refused because their token had expired (part of `unauthorized`). */
  tokensExpired: number;
}

/** Marzban's `UserResponse` (app/models/user.py), the fields a real panel sends. */
export interface MarzbanUserResponse {
  proxies: Record<string, Record<string, string>>;
  expire: number | null;
  data_limit: number | null;
  data_limit_reset_strategy: 'no_reset' | 'day' | 'week' | 'month' | 'year';
  inbounds: Record<string, string[]>;
  note: string | null;
  sub_updated_at: string | null;
  sub_last_user_agent: string | null;
  online_at: string | null;
  on_hold_expire_duration: number | null;
  on_hold_timeout: string | null;
  auto_delete_in_days: number | null;
  next_plan: null;
  username: string;
  status: 'active' | 'disabled' | 'limited' | 'expired' | 'on_hold';
  used_traffic: number;
  lifetime_used_traffic: number;
  created_at: string;
  links: string[];
  subscription_url: string;
  excluded_inbounds: Record<string, string[]>;
  admin: { username: string; is_sudo: boolean; telegram_id: null; discord_webhook: null; users_usage: number };
}

export const MARZBAN_TOKEN_PATH = '/api/admin/token';
const USER_PATH = /^\/api\/user\/([^/]+)$/;
const RESET_PATH = /^\/api\/user\/([^/]+)\/reset$/;
const DAY_MS = 86_400_000;
const BEARER = { 'www-authenticate': 'Bearer' };
/** The inbound every simulated user has; its tag as Marzban's default xray config names it. */
const INBOUND = 'VLESS TCP REALITY';

function detail(status: number, message: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body: { detail: message }, ...(headers ? { headers } : {}) };
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** Marzban's naive UTC datetimes ("2024-05-01T10:00:00", no zone). */
function naive(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** A v4-looking UUID from the user's hash: the same user keeps the same proxy id. */
function uuidOf(hash: number): string {
  const random = seededRandom(hash ^ 0x1d);
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)];
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/**
 * Marzban (Gozargah/Marzban) as ../shared/reference/upstream-apis.md section 4b describes it: an admin token from
 * `POST /api/admin/token` (form), a JWT with `sub`, `access`, `iat`, `exp` that expires after `tokenTtlMs`, and
 * `GET /api/user/{username}` answering the `UserResponse` with `used_traffic`; FastAPI's `{"detail": …}` errors.
 */
export class MarzbanSimulator extends VpnPanelSimulator<MarzbanCounters> {
  readonly adminUsername: string;
  readonly adminPassword: string;
  tokenTtlMs: number;

  /** Changing it invalidates every token issued before (as a changed SECRET_KEY does). */
  private generation = 0;

  constructor(options: MarzbanSimulatorOptions = {}) {
    super(options, { tokensIssued: 0, tokensExpired: 0 });
    this.adminUsername = options.adminUsername ?? 'admin';
    this.adminPassword = options.adminPassword ?? 'sim-marzban-password-0001';
    this.tokenTtlMs = options.tokenTtlMs ?? 1440 * 60_000;
    this.setTokenTtl(this.tokenTtlMs);
  }

  /** Tokens issued from now on live this long (those issued before keep their `exp`). */
  setTokenTtl(ms: number): void {
    if (!Number.isInteger(ms) || ms <= 0) throw new Error('tokenTtlMs must be a positive integer');
    this.tokenTtlMs = ms;
  }

  /** Every token issued so far is refused from now on (401 "Could not validate credentials"). */
  invalidateTokens(): void {
    this.generation++;
  }

  /** A token as POST /api/admin/token issues it, for tests that need one without the HTTP round trip. */
  issueToken(): string {
    const now = this.now();
    // Whole seconds, as PyJWT writes them, unless the TTL is finer than a second (tests set short ones).
    const iat = Math.floor(now / 1000);
    const exp = this.tokenTtlMs % 1000 === 0 ? iat + this.tokenTtlMs / 1000 : (now + this.tokenTtlMs) / 1000;
    const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({ sub: this.adminUsername, access: 'sudo', iat, exp }));
    return `${head}.${payload}.${this.sign(`${head}.${payload}`)}`;
  }

  /** The user as `GET /api/user/{username}` answers it now (no read served, no growth). */
  answerFor(user: VpnUser): MarzbanUserResponse {
    const id = uuidOf(user.hash);
    const limited = user.status === 'active' && user.dataLimitBytes !== null && user.usedBytes >= user.dataLimitBytes;
    return {
      proxies: { vless: { id, flow: 'xtls-rprx-vision' } },
      expire: user.expireAtMs === null ? null : Math.floor(user.expireAtMs / 1000),
      data_limit: user.dataLimitBytes,
      data_limit_reset_strategy: 'no_reset',
      inbounds: { vless: [INBOUND] },
      note: null,
      sub_updated_at: null,
      sub_last_user_agent: null,
      online_at: user.reads > 0 ? naive(user.createdAtMs + user.reads * 60_000) : null,
      on_hold_expire_duration: user.status === 'on_hold' ? 30 * 86_400 : null,
      on_hold_timeout: user.status === 'on_hold' ? naive(user.createdAtMs + 7 * DAY_MS) : null,
      auto_delete_in_days: null,
      next_plan: null,
      username: user.username,
      status: limited ? 'limited' : user.status,
      used_traffic: user.usedBytes,
      lifetime_used_traffic: user.lifetimeBytes,
      created_at: naive(user.createdAtMs),
      links: [
        `vless://${id}@panel.example:443?security=reality&type=tcp&flow=xtls-rprx-vision#${encodeURIComponent(
          `${user.username} (${INBOUND})`,
        )}`,
      ],
      subscription_url: `/sub/${base64url(`${user.username},${Math.floor(user.createdAtMs / 1000)}`)}`,
      excluded_inbounds: { vless: [] },
      admin: { username: this.adminUsername, is_sudo: true, telegram_id: null, discord_webhook: null, users_usage: 0 },
    };
  }

  // ---- HTTP ----

  protected routeKey(req: SimRequest): string | null {
    if (req.path === MARZBAN_TOKEN_PATH) return `${req.method} ${MARZBAN_TOKEN_PATH}`;
    if (USER_PATH.test(req.path)) return `${req.method} /api/user/:username`;
    if (RESET_PATH.test(req.path)) return `${req.method} /api/user/:username/reset`;
    return null;
  }

  protected serve(req: SimRequest): SimResponse {
    if (req.path === MARZBAN_TOKEN_PATH) return req.method === 'POST' ? this.token(req) : this.methodNotAllowed('POST');
    const reset = req.path.match(RESET_PATH);
    const one = reset ?? req.path.match(USER_PATH)!;
    const method = reset ? 'POST' : 'GET';
    if (req.method !== method) return this.methodNotAllowed(method);
    const denied = this.authenticate(req);
    if (denied) return denied;
    let username: string;
    try {
      username = decodeURIComponent(one[1]);
    } catch {
      username = '';
    }
    if (reset) {
      if (!this.users.get(username)) {
        this.counters.notFound++;
        return detail(404, 'User not found');
      }
      this.resetUsage(username);
      return { status: 200, body: this.answerFor(this.users.get(username)!) };
    }
    const user = this.readUser(username);
    return user ? { status: 200, body: this.answerFor(user) } : detail(404, 'User not found');
  }

  /** uvicorn's plain-text 500. */
  protected internalError(): SimResponse {
    return { status: 500, text: 'Internal Server Error', headers: { 'content-type': 'text/plain; charset=utf-8' } };
  }

  protected noRoute(): SimResponse {
    return detail(404, 'Not Found');
  }

  protected override panelControl(req: SimRequest, body: Record<string, unknown>): SimResponse | null {
    if (req.method === 'POST' && req.path === '/__simulator/tokens/invalidate') {
      this.invalidateTokens();
      return { status: 200, body: { invalidated: true } };
    }
    if (req.method === 'POST' && req.path === '/__simulator/token-ttl') {
      this.setTokenTtl(Number(body.ms));
      return { status: 200, body: { tokenTtlMs: this.tokenTtlMs } };
    }
    return null;
  }

  protected override panelState(): Record<string, unknown> {
    return { tokenTtlMs: this.tokenTtlMs };
  }

  /** FastAPI's OAuth2PasswordRequestForm: form fields username and password, grant_type optional but "password". */
  private token(req: SimRequest): SimResponse {
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    const form = new URLSearchParams(
      contentType.startsWith('application/x-www-form-urlencoded') && typeof req.body === 'string' ? req.body : '',
    );
    const missing = ['username', 'password'].filter((field) => !form.has(field));
    if (missing.length)
      return detail(
        422,
        missing.map((field) => ({ type: 'missing', loc: ['body', field], msg: 'Field required', input: null })),
      );
    const grantType = form.get('grant_type');
    if (grantType !== null && grantType !== 'password')
      return detail(422, [
        {
          type: 'string_pattern_mismatch',
          loc: ['body', 'grant_type'],
          msg: "String should match pattern '^password$'",
          input: grantType,
        },
      ]);
    if (form.get('username') !== this.adminUsername || form.get('password') !== this.adminPassword) {
      this.counters.unauthorized++;
      return detail(401, 'Incorrect username or password', BEARER);
    }
    this.counters.tokensIssued++;
    return { status: 200, body: { access_token: this.issueToken(), token_type: 'bearer' } };
  }

  /** null when the request carries a valid, unexpired admin token; the 401 otherwise. */
  private authenticate(req: SimRequest): SimResponse | null {
    const header = String(req.headers.authorization ?? '');
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    if (!header || scheme.toLowerCase() !== 'bearer') {
      this.counters.unauthorized++;
      return detail(401, 'Not authenticated', BEARER);
    }
    const verdict = this.verify(header.slice(space + 1).trim());
    if (verdict === 'ok') return null;
    this.counters.unauthorized++;
    if (verdict === 'expired') this.counters.tokensExpired++;
    return detail(401, 'Could not validate credentials', BEARER);
  }

  private verify(token: string): 'ok' | 'expired' | 'invalid' {
    const parts = token.split('.');
    if (parts.length !== 3) return 'invalid';
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return 'invalid';
    }
    if (claims.sub !== this.adminUsername || typeof claims.exp !== 'number') return 'invalid';
    return claims.exp * 1000 <= this.now() ? 'expired' : 'ok';
  }

  private sign(input: string): string {
    return createHmac('sha256', `sim-marzban-${this.seed}-${this.generation}`).update(input).digest('base64url');
  }

  private methodNotAllowed(allow: string): SimResponse {
    return { ...detail(405, 'Method Not Allowed'), headers: { allow } };
  }
}
