import { seededRandom } from '../random';

export type VpnUserStatus = 'active' | 'disabled' | 'expired' | 'on_hold';

/** One panel user as the simulators hold it; each panel renders it in its own JSON. */
export interface VpnUser {
  username: string;
  /** Traffic since the last reset, in bytes: what the panels call used traffic. */
  usedBytes: number;
  /** Traffic ever, in bytes: a reset does not lower it. */
  lifetimeBytes: number;
  /** The traffic limit in bytes; null is unlimited. */
  dataLimitBytes: number | null;
  status: VpnUserStatus;
  createdAtMs: number;
  expireAtMs: number | null;
  /** Bytes added after each served read when the book has no `growBytesPerRead`. */
  growthPerRead: number;
  /** Uploads' share of the usage (0..1), for panels that split upload and download. */
  uploadShare: number;
  /** A deterministic 32-bit number of (seed, username) for a panel's own per-user choices. */
  hash: number;
  /** Reads served so far. */
  reads: number;
}

/** What a test (or a panel admin) may set on a user; the rest is generated. */
const FIELD_KEYS = [
  'usedBytes',
  'dataLimitBytes',
  'status',
  'createdAtMs',
  'expireAtMs',
  'growthPerRead',
  'uploadShare',
] as const;
export type VpnUserFields = Partial<Pick<VpnUser, (typeof FIELD_KEYS)[number]>>;

export interface VpnUserBookOptions {
  seed: number;
  /** Every username is a user, generated on first use from (seed, username); false: only users added. Default true. */
  autoCreate?: boolean;
  /** Bytes added after every served read, for all users; unset: each user's own deterministic increment. */
  growBytesPerRead?: number;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const DAY_MS = 86_400_000;
/** Generated dates fall in a fixed window, so a seed gives the same users whatever day it runs. */
const EPOCH_MS = Date.UTC(2024, 0, 1);
const FAR_EXPIRY_MS = Date.UTC(2028, 0, 1);
const LIMITS: readonly (number | null)[] = [null, 5 * GIB, 10 * GIB, 20 * GIB, 50 * GIB, 100 * GIB];

/** FNV-1a over the UTF-16 code units: cheap, and stable across runs and platforms. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The n-th (1-based) name of a generated population: `user00001`, … (what the bench and the embedded mode use). */
export function vpnUsername(n: number): string {
  return `user${String(n).padStart(5, '0')}`;
}

function assertBytes(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer of bytes`);
}

/** The user (seed, username) generates: same inputs, same user, on any machine. */
export function generateVpnUser(seed: number, username: string): VpnUser {
  const hash = fnv1a(`${seed}:${username}`);
  const random = seededRandom(hash);
  const dataLimitBytes = LIMITS[Math.floor(random() * LIMITS.length)];
  // Most users sit below their limit; about one in ten is already past 80 % of it.
  const usedBytes = Math.floor(random() * (dataLimitBytes ?? 50 * GIB) * 0.95);
  const roll = random();
  const status: VpnUserStatus = roll < 0.88 ? 'active' : roll < 0.93 ? 'disabled' : roll < 0.97 ? 'expired' : 'on_hold';
  const createdAtMs = EPOCH_MS + Math.floor(random() * 500) * DAY_MS + Math.floor(random() * DAY_MS);
  // Dates do not depend on today: an expired user expired within a year of creation, the others expire from 2028
  // (or never), so the status read from the panel and its dates agree whenever the simulator runs.
  const months = 1 + Math.floor(random() * 12);
  const expireAtMs =
    status === 'expired'
      ? createdAtMs + months * 30 * DAY_MS
      : status === 'on_hold' || random() < 0.3
        ? null
        : FAR_EXPIRY_MS + months * 30 * DAY_MS;
  return {
    username,
    usedBytes,
    lifetimeBytes: usedBytes + Math.floor(random() * 3) * (dataLimitBytes ?? 20 * GIB),
    dataLimitBytes,
    status,
    createdAtMs,
    expireAtMs,
    growthPerRead: MIB * (1 + Math.floor(random() * 64)),
    uploadShare: 0.05 + Math.floor(random() * 30) / 100,
    hash,
    reads: 0,
  };
}

/**
 * A panel's users: generated lazily from (seed, username) (so 10,000 users cost only the ones asked for) or added
 * explicitly; usage that grows after every served read, and the resets and overrides a test or a panel admin makes.
 */
export class VpnUserBook {
  readonly seed: number;
  readonly autoCreate: boolean;
  growBytesPerRead: number | null;
  private readonly users = new Map<string, VpnUser>();
  /** Removed usernames, so an auto-creating book does not bring them back. */
  private readonly removed = new Set<string>();

  constructor(options: VpnUserBookOptions) {
    this.seed = options.seed;
    this.autoCreate = options.autoCreate ?? true;
    this.growBytesPerRead = null;
    if (options.growBytesPerRead !== undefined) this.setGrowth(options.growBytesPerRead);
  }

  /** Users held so far (generated on a lookup, or added). */
  get size(): number {
    return this.users.size;
  }

  /** The user, generated on first lookup when the book auto-creates; null when unknown. Not a copy. */
  get(username: string): VpnUser | null {
    const held = this.users.get(username);
    if (held) return held;
    if (!this.autoCreate || !username || this.removed.has(username)) return null;
    const user = generateVpnUser(this.seed, username);
    this.users.set(username, user);
    return user;
  }

  /** A copy of the user, without serving a read (no growth). */
  peek(username: string): VpnUser | null {
    const user = this.get(username);
    return user ? { ...user } : null;
  }

  /**
   * Serves a read: the usage as it is now (a copy), then grows the counter, so successive reads see more traffic and
   * a setUsage() is read back exactly once before it grows.
   */
  read(username: string): VpnUser | null {
    const user = this.get(username);
    if (!user) return null;
    const served = { ...user };
    user.reads++;
    const grow = this.growBytesPerRead ?? user.growthPerRead;
    user.usedBytes += grow;
    user.lifetimeBytes += grow;
    return served;
  }

  /** Adds (or replaces) a user: the generated one for (seed, username), with `fields` over it. */
  add(username: string, fields: VpnUserFields = {}): VpnUser {
    if (!username) throw new Error('A VPN user needs a username');
    for (const key of ['usedBytes', 'growthPerRead'] as const)
      if (fields[key] !== undefined) assertBytes(key, fields[key]);
    if (fields.dataLimitBytes != null) assertBytes('dataLimitBytes', fields.dataLimitBytes);
    const user = generateVpnUser(this.seed, username);
    for (const key of FIELD_KEYS) if (fields[key] !== undefined) Object.assign(user, { [key]: fields[key] });
    user.lifetimeBytes = Math.max(user.lifetimeBytes, user.usedBytes);
    this.removed.delete(username);
    this.users.set(username, user);
    return { ...user };
  }

  /** Deletes a user: lookups answer "unknown" from now on (until add()). */
  remove(username: string): boolean {
    const existed = this.get(username) !== null;
    this.users.delete(username);
    this.removed.add(username);
    return existed;
  }

  /** A panel reset: used traffic back to 0; lifetime traffic stays. */
  resetUsage(username: string): VpnUser {
    const user = this.require(username);
    user.usedBytes = 0;
    return { ...user };
  }

  /** Sets the used traffic; the next read answers exactly this, then it grows again. */
  setUsage(username: string, bytes: number): VpnUser {
    assertBytes('bytes', bytes);
    const user = this.require(username);
    user.lifetimeBytes += Math.max(0, bytes - user.usedBytes);
    user.usedBytes = bytes;
    return { ...user };
  }

  /** Bytes added after every read for all users; null gives each user its own increment back; 0 freezes usage. */
  setGrowth(bytesPerRead: number | null): void {
    if (bytesPerRead !== null) assertBytes('growBytesPerRead', bytesPerRead);
    this.growBytesPerRead = bytesPerRead;
  }

  private require(username: string): VpnUser {
    const user = this.get(username);
    if (!user) throw new Error(`No VPN user ${username}`);
    return user;
  }
}
