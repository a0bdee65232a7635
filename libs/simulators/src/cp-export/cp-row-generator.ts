import { pick, seededRandom } from '../random';

/** A declared column's type as docs/cp-export-api.md states it; `flag` is 0 or 1, `decimal` a string like "49.90". */
export type CpColumnType = 'int' | 'string' | 'decimal' | 'date' | 'datetime' | 'flag';

export interface CpColumn {
  name: string;
  type: CpColumnType;
  nullable?: boolean;
  /** The only values the column takes, for enumerations such as `statut`. */
  values?: readonly string[];
}

/** The seven tables, in the order a round answers them. */
export const CP_TABLE_NAMES = [
  'client',
  'client_abonnement',
  'history',
  'promotion_pass_orders',
  'promotion_pass_vendu',
  'partner',
  'promotion',
] as const;

export type CpTable = (typeof CP_TABLE_NAMES)[number];
export type CpRow = Record<string, unknown>;

export interface CpTableSpec {
  name: CpTable;
  primaryKey: string;
  columns: readonly CpColumn[];
  /** The column a `bad_type` corruption turns into a non-numeric string. */
  badTypeColumn: string;
  /** Columns not in the contract that the simulator's rows carry anyway (a client keeps them in the JSON copy). */
  extraColumns: readonly string[];
}

const int = (name: string): CpColumn => ({ name, type: 'int' });
const str = (name: string, nullable = false): CpColumn => ({ name, type: 'string', ...(nullable ? { nullable } : {}) });
const created: CpColumn = { name: 'created_at', type: 'datetime' };
const updated: CpColumn = { name: 'updated_at', type: 'datetime' };

/** The seven tables in request order, with their primary keys and the columns the contract declares. */
export const CP_TABLES: readonly CpTableSpec[] = [
  {
    name: 'client',
    primaryKey: 'client_id',
    columns: [
      int('client_id'),
      str('nom'),
      str('prenom'),
      str('email', true),
      str('telephone', true),
      str('ville'),
      str('code_postal'),
      { name: 'date_naissance', type: 'date', nullable: true },
      int('points'),
      created,
      updated,
    ],
    badTypeColumn: 'points',
    extraColumns: ['newsletter', 'source'],
  },
  {
    name: 'client_abonnement',
    primaryKey: 'client_abonnement_id',
    columns: [
      int('client_abonnement_id'),
      int('client_id'),
      str('formule'),
      { name: 'montant', type: 'decimal' },
      { name: 'date_debut', type: 'date' },
      { name: 'date_fin', type: 'date' },
      { name: 'statut', type: 'string', values: ['actif', 'expire', 'resilie'] },
      created,
      updated,
    ],
    badTypeColumn: 'client_id',
    extraColumns: ['renouvellement_auto'],
  },
  {
    name: 'history',
    primaryKey: 'history_id',
    columns: [
      int('history_id'),
      int('client_id'),
      { name: 'type', type: 'string', values: ['visite', 'achat', 'points', 'parrainage'] },
      str('description'),
      int('points'),
      created,
    ],
    badTypeColumn: 'points',
    extraColumns: ['meta'],
  },
  {
    name: 'promotion_pass_orders',
    primaryKey: 'id',
    columns: [
      int('id'),
      int('client_id'),
      int('promotion_id'),
      int('quantite'),
      { name: 'montant_total', type: 'decimal' },
      { name: 'statut', type: 'string', values: ['payee', 'en_attente', 'annulee'] },
      created,
      updated,
    ],
    badTypeColumn: 'quantite',
    extraColumns: ['mode_paiement'],
  },
  {
    name: 'promotion_pass_vendu',
    primaryKey: 'id',
    columns: [
      int('id'),
      int('order_id'),
      int('promotion_id'),
      str('code'),
      { name: 'utilise', type: 'flag' },
      { name: 'date_utilisation', type: 'datetime', nullable: true },
      created,
      updated,
    ],
    badTypeColumn: 'order_id',
    extraColumns: ['source'],
  },
  {
    name: 'partner',
    primaryKey: 'partner_id',
    columns: [
      int('partner_id'),
      str('nom'),
      str('categorie'),
      str('ville'),
      str('email', true),
      str('telephone', true),
      { name: 'actif', type: 'flag' },
      created,
      updated,
    ],
    badTypeColumn: 'actif',
    extraColumns: ['site_web'],
  },
  {
    name: 'promotion',
    primaryKey: 'promotion_id',
    columns: [
      int('promotion_id'),
      int('partner_id'),
      str('titre'),
      str('description'),
      int('reduction_pct'),
      { name: 'date_debut', type: 'date' },
      { name: 'date_fin', type: 'date' },
      { name: 'actif', type: 'flag' },
      created,
      updated,
    ],
    badTypeColumn: 'reduction_pct',
    extraColumns: ['conditions'],
  },
];

export function cpTableSpec(table: CpTable): CpTableSpec {
  return CP_TABLES.find((t) => t.name === table)!;
}

export function isCpTable(name: string): name is CpTable {
  return (CP_TABLE_NAMES as readonly string[]).includes(name);
}

const DAY = 86_400_000;
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** 'YYYY-MM-DD' of a UTC day number; by arithmetic (civil-from-days), as Date formatting is the generator's hot spot. */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** 'YYYY-MM-DD HH:mm:ss' in UTC, the contract's datetime. */
export function cpDateTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const inDay = seconds - days * 86_400;
  const h = Math.floor(inDay / 3600);
  const m = Math.floor((inDay % 3600) / 60);
  return `${civilDate(days)} ${pad2(h)}:${pad2(m)}:${pad2(inDay % 60)}`;
}

function cpDate(ms: number): string {
  return civilDate(Math.floor(ms / DAY));
}

/** The generated history runs from here to GENERATED_UNTIL; appended rows are dated at the simulator's clock. */
const GENERATED_FROM = Date.UTC(2021, 0, 4, 8, 0, 0);
export const CP_GENERATED_UNTIL = Date.UTC(2025, 5, 30, 21, 59, 59);

/** What a row depends on besides its table and id: the seed, the initial sizes (for the timeline), the id gaps. */
export interface CpGenerationContext {
  seed: number;
  /** Each table's highest generated id: a row's place in the timeline is its id over this. */
  initialMaxId: Record<CpTable, number>;
  /** Every id divisible by this does not exist (real auto-increment ids have gaps); 0 for none. */
  gapEvery: number;
}

export function isCpGap(id: number, gapEvery: number): boolean {
  return gapEvery > 1 && id % gapEvery === 0;
}

/** The id of the n-th existing row (1-based) when every `gapEvery`-th id is missing. */
export function cpIdOfNth(n: number, gapEvery: number): number {
  return gapEvery > 1 ? n + Math.floor((n - 1) / (gapEvery - 1)) : n;
}

/** How many rows exist with an id in 1..maxId. */
export function cpCountUpTo(maxId: number, gapEvery: number): number {
  return gapEvery > 1 ? maxId - Math.floor(maxId / gapEvery) : maxId;
}

const PRENOMS = [
  'Camille',
  'Léa',
  'Manon',
  'Chloé',
  'Inès',
  'Julie',
  'Sophie',
  'Élodie',
  'Nathalie',
  'Isabelle',
  'Lucas',
  'Hugo',
  'Louis',
  'Thomas',
  'Nicolas',
  'Julien',
  'Mathieu',
  'Pierre',
  'François',
  'Jérôme',
];
const NOMS = [
  'Martin',
  'Bernard',
  'Dubois',
  'Thomas',
  'Robert',
  'Richard',
  'Petit',
  'Durand',
  'Leroy',
  'Moreau',
  'Simon',
  'Laurent',
  'Lefèvre',
  'Michel',
  'Garcia',
  'Fournier',
  'Girard',
  'Bonnet',
  'Dupont',
  'Lambert',
  'Fontaine',
  'Rousseau',
  'Chevalier',
  "N'Diaye",
];
const VILLES: Array<[string, string]> = [
  ['Paris', '75011'],
  ['Paris', '75015'],
  ['Lyon', '69003'],
  ['Marseille', '13008'],
  ['Toulouse', '31000'],
  ['Nice', '06000'],
  ['Nantes', '44000'],
  ['Strasbourg', '67000'],
  ['Montpellier', '34000'],
  ['Bordeaux', '33000'],
  ['Lille', '59000'],
  ['Rennes', '35000'],
  ['Reims', '51100'],
  ['Saint-Étienne', '42000'],
  ['Le Havre', '76600'],
  ['Grenoble', '38000'],
  ['Dijon', '21000'],
  ['Angers', '49000'],
  ['Aix-en-Provence', '13100'],
  ['Annecy', '74000'],
];
const DOMAINES = ['exemple.fr', 'exemple.com', 'courriel.example', 'mail.example'];
/** Formule, monthly duration, price in cents. */
const FORMULES: Array<[string, number, number]> = [
  ['Découverte', 1, 990],
  ['Essentiel', 3, 2490],
  ['Essentiel', 12, 4990],
  ['Privilège', 12, 7990],
  ['Privilège Duo', 12, 11990],
  ['Premium', 12, 14900],
  ['Famille', 12, 9990],
];
const CATEGORIES: Array<[string, string[]]> = [
  ['Restaurant', ['Le Bistrot', 'La Table de', 'Brasserie', 'Crêperie', 'Le Comptoir de']],
  ['Bien-être', ['Spa', 'Institut', 'Hammam', 'Les Thermes de']],
  ['Loisirs', ['Bowling', 'Karting', 'Escape Game', 'Laser Game']],
  ['Culture', ['Cinéma', 'Théâtre', 'Musée', 'Salle de concert']],
  ['Shopping', ['Boutique', 'Librairie', 'Fleuriste', 'Caviste']],
  ['Sport', ['Salle de sport', 'Piscine', 'Club de tennis', 'Golf de']],
];
const ENSEIGNES = ['du Port', 'des Halles', 'Saint-Michel', 'du Centre', 'Les Tilleuls', 'Belle Époque', 'Le Lutin'];
const OFFRES = [
  ['sur le menu du jour', 'Valable du lundi au vendredi, midi et soir.'],
  ["sur l'entrée", 'Une entrée par pass, sur présentation de la carte.'],
  ['sur le soin découverte', 'Sur réservation, selon disponibilités.'],
  ['sur la deuxième place', 'Hors avant-premières et séances spéciales.'],
  ["sur l'abonnement mensuel", 'Pour toute première inscription.'],
  ['sur tout le magasin', 'Hors promotions en cours et cartes cadeaux.'],
];

/** A 32-bit hash of the row's coordinates: its own PRNG stream, whatever order rows are generated in. */
function rowSeed(seed: number, table: number, id: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (table + 1) ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ id ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

const plainCache = new Map<string, string>();

/** Lower case ASCII letters and digits only, for e-mail addresses; the names come from small lists, so memoised. */
function plain(text: string): string {
  let out = plainCache.get(text);
  if (out === undefined) {
    out = text
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '');
    plainCache.set(text, out);
  }
  return out;
}

/** A French number as people write it: "06 12 34 56 78", "+33 6 12 34 56 78" or "0612345678". */
function telephone(random: () => number): string {
  const lead = random() < 0.7 ? pick(random, ['6', '7']) : pick(random, ['1', '2', '4', '5']);
  const pairs = [pad2(between(random, 0, 99)), pad2(between(random, 0, 99)), pad2(between(random, 0, 99))];
  pairs.push(pad2(between(random, 0, 99)));
  const style = random();
  if (style < 0.5) return `0${lead} ${pairs.join(' ')}`;
  return style < 0.75 ? `+33 ${lead} ${pairs.join(' ')}` : `0${lead}${pairs.join('')}`;
}

function cents(value: number): string {
  return (value / 100).toFixed(2);
}

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
}

/**
 * A referenced id of `table` that existed by the time `fraction` of the timeline had passed, and is not a gap: an
 * abonnement points at a client created before it.
 */
function reference(random: () => number, ctx: CpGenerationContext, table: CpTable, fraction: number): number {
  const max = Math.max(1, Math.floor(ctx.initialMaxId[table] * Math.min(1, Math.max(fraction, 0.02))));
  const id = between(random, 1, max);
  return isCpGap(id, ctx.gapEvery) ? id - 1 : id;
}

/** An order's promotion, from a stream of its own: the passes sold of an order name it without generating the order. */
function orderPromotion(ctx: CpGenerationContext, orderId: number): number {
  const random = seededRandom(rowSeed(ctx.seed, 100, orderId));
  return reference(random, ctx, 'promotion', orderId / Math.max(1, ctx.initialMaxId.promotion_pass_orders));
}

interface Moment {
  random: () => number;
  /** The row's place in the generated timeline, 0..1 (1 for appended rows). */
  fraction: number;
  created: number;
  /** The latest a derived date may be: the end of the generated history, or the append time. */
  asOf: number;
  appended: boolean;
}

const GENERATORS: Record<CpTable, (id: number, m: Moment, ctx: CpGenerationContext) => CpRow> = {
  client(id, { random }) {
    const prenom = pick(random, PRENOMS);
    const nom = pick(random, NOMS);
    const [ville, codePostal] = pick(random, VILLES);
    const born =
      random() < 0.88
        ? `${between(random, 1945, 2006)}-${pad2(between(random, 1, 12))}-${pad2(between(random, 1, 28))}`
        : null;
    return {
      client_id: id,
      nom,
      prenom,
      email: random() < 0.9 ? `${plain(prenom)}.${plain(nom)}${id}@${pick(random, DOMAINES)}` : null,
      telephone: random() < 0.8 ? telephone(random) : null,
      ville,
      code_postal: codePostal,
      date_naissance: born,
      points: between(random, 0, 60) * 25,
      newsletter: random() < 0.55 ? 1 : 0,
      source: pick(random, ['web', 'web', 'magasin', 'parrainage', 'application']),
    };
  },
  client_abonnement(id, { random, fraction, created, asOf }, ctx) {
    const [formule, months, price] = pick(random, FORMULES);
    const start = Math.floor(created / DAY) * DAY;
    const end = addMonths(start, months) - DAY;
    const running = end >= Math.floor(asOf / DAY) * DAY;
    return {
      client_abonnement_id: id,
      client_id: reference(random, ctx, 'client', fraction),
      formule,
      montant: cents(price),
      date_debut: cpDate(start),
      date_fin: cpDate(end),
      statut: running ? (random() < 0.95 ? 'actif' : 'resilie') : random() < 0.85 ? 'expire' : 'resilie',
      renouvellement_auto: random() < 0.6 ? 1 : 0,
    };
  },
  history(id, { random, fraction }, ctx) {
    const type = pick(random, ['visite', 'visite', 'visite', 'achat', 'achat', 'points', 'parrainage'] as const);
    const [categorie, prefixes] = pick(random, CATEGORIES);
    const lieu = `${pick(random, prefixes)} ${pick(random, ENSEIGNES)}`;
    let description: string;
    let points: number;
    switch (type) {
      case 'visite':
        description = `Visite chez ${lieu} (${categorie.toLowerCase()})`;
        points = pick(random, [5, 10, 10, 20]);
        break;
      case 'achat': {
        const passes = between(random, 1, 4);
        description = `Achat de ${passes} pass « ${lieu} »`;
        points = passes * 15;
        break;
      }
      case 'points':
        [description, points] = pick(random, [
          ['Bonus anniversaire', 100],
          ['Points de bienvenue', 50],
          ['Utilisation de points en caisse', -between(random, 2, 20) * 25],
          ['Régularisation de points', between(random, -5, 5) * 10],
        ] as Array<[string, number]>);
        break;
      case 'parrainage':
        description = `Parrainage de ${pick(random, PRENOMS)} ${pick(random, NOMS)[0]}.`;
        points = 200;
        break;
    }
    return {
      history_id: id,
      client_id: reference(random, ctx, 'client', fraction),
      type,
      description,
      points,
      meta: {
        canal: pick(random, ['application', 'caisse', 'web']),
        partner_id: reference(random, ctx, 'partner', fraction),
      },
    };
  },
  promotion_pass_orders(id, { random, fraction }, ctx) {
    const quantite = pick(random, [1, 1, 1, 2, 2, 3, 4, 5]);
    const unit = pick(random, [500, 900, 1200, 1500, 1990, 2500]);
    const roll = random();
    return {
      id,
      client_id: reference(random, ctx, 'client', fraction),
      promotion_id: orderPromotion(ctx, id),
      quantite,
      montant_total: cents(quantite * unit),
      statut: roll < 0.82 ? 'payee' : roll < 0.92 ? 'en_attente' : 'annulee',
      mode_paiement: pick(random, ['cb', 'cb', 'cb', 'paypal', 'especes']),
    };
  },
  promotion_pass_vendu(id, { random, fraction, created, asOf, appended }, ctx) {
    const orderId = reference(random, ctx, 'promotion_pass_orders', fraction);
    const used = !appended && random() < 0.55;
    const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    let code = 'CP-';
    for (let i = 0; i < 8; i++) code += (i === 4 ? '-' : '') + letters[Math.floor(random() * letters.length)];
    return {
      id,
      order_id: orderId,
      promotion_id: orderPromotion(ctx, orderId),
      code,
      utilise: used ? 1 : 0,
      date_utilisation: used ? cpDateTime(Math.min(asOf, created + between(random, 1, 120 * 24 * 60) * 60_000)) : null,
      source: pick(random, ['web', 'application']),
    };
  },
  partner(id, { random }) {
    const [categorie, prefixes] = pick(random, CATEGORIES);
    const [ville] = pick(random, VILLES);
    const nom = `${pick(random, prefixes)} ${pick(random, ENSEIGNES)}`;
    const slug = plain(nom);
    return {
      partner_id: id,
      nom,
      categorie,
      ville,
      email: random() < 0.85 ? `contact@${slug}${id}.exemple.fr` : null,
      telephone: random() < 0.9 ? telephone(random) : null,
      actif: random() < 0.9 ? 1 : 0,
      site_web: random() < 0.5 ? `https://www.${slug}${id}.exemple.fr` : null,
    };
  },
  promotion(id, { random, fraction, created, asOf }, ctx) {
    const [offre, conditions] = pick(random, OFFRES);
    const pct = pick(random, [5, 10, 10, 15, 20, 20, 25, 30, 40, 50]);
    const start = Math.floor(created / DAY) * DAY + between(random, 0, 14) * DAY;
    const end = start + between(random, 30, 180) * DAY;
    const running = end >= asOf;
    return {
      promotion_id: id,
      partner_id: reference(random, ctx, 'partner', fraction),
      titre: `-${pct} % ${offre}`,
      description: `Profitez de ${pct} % de réduction ${offre} avec votre carte Club Privilèges.`,
      reduction_pct: pct,
      date_debut: cpDate(start),
      date_fin: cpDate(end),
      actif: running ? 1 : random() < 0.05 ? 1 : 0,
      conditions,
    };
  },
};

/**
 * Row `id` of `table`, generated from the context alone: the same seed, sizes and id give the same row. Generated rows
 * are spread over 2021-01 .. 2025-06 in id order; `appendedAt` (ms) dates an appended row at that instant instead.
 */
export function generateCpRow(table: CpTable, id: number, ctx: CpGenerationContext, appendedAt?: number): CpRow {
  const index = CP_TABLE_NAMES.indexOf(table);
  const random = seededRandom(rowSeed(ctx.seed, index, id));
  const maxId = Math.max(1, ctx.initialMaxId[table]);
  const appended = appendedAt !== undefined;
  const fraction = appended ? 1 : Math.min(1, id / maxId);
  const slot = (CP_GENERATED_UNTIL - GENERATED_FROM) / maxId;
  const createdMs = appended
    ? appendedAt
    : Math.floor(GENERATED_FROM + (id - 1) * slot + random() * Math.min(slot, DAY));
  const asOf = appended ? appendedAt : CP_GENERATED_UNTIL;
  const row = GENERATORS[table](id, { random, fraction, created: createdMs, asOf, appended }, ctx);
  row.created_at = cpDateTime(createdMs);
  if (table !== 'history') {
    const touched = appended || random() < 0.4 ? createdMs : createdMs + random() * 400 * DAY;
    row.updated_at = cpDateTime(Math.min(asOf, touched));
  }
  return row;
}
