import type { PanelCredentialField } from '@sync-hub/contracts';
import { EYLANDOO_USER_PATH } from '../panels/eylandoo.adapter';
import type { PanelCredentials, PanelType } from '../model/usage.entities';

/** The credential fields each panel type's adapter reads; any other is refused (it would be stored and never used). */
export const CREDENTIALS_READ: Readonly<Record<PanelType, readonly PanelCredentialField[]>> = {
  eylandoo: ['api_key'],
  marzban: ['username', 'password'],
  marzneshin: ['username', 'password'],
  '3x-ui': ['username', 'password', 'api_token'],
};

/** The sealed credentials' fields by their API names (the stored JSON is camelCase). */
export const CREDENTIAL_OF: Readonly<Record<PanelCredentialField, keyof PanelCredentials>> = {
  username: 'username',
  password: 'password',
  api_key: 'apiKey',
  api_token: 'apiToken',
};

export type FieldErrors = Record<string, string[]>;

/** Credentials as a request gives them: a value sets one, null removes it, left out keeps it. */
export type GivenCredentials = Partial<Record<PanelCredentialField, string | null>>;

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const THREEXUI_GENERATIONS = ['legacy', 'v3.1'];

function add(errors: FieldErrors, field: string, reason: string): void {
  (errors[field] ??= []).push(reason);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A panel's settings as the API takes them (snake_case), checked for its type and turned into what the adapters read
 * (`paths.user` for Eylandoo; `generation` and `cookieName` for 3x-ui). Marzban and Marzneshin have none.
 */
export function checkSettings(
  type: PanelType,
  settings: Record<string, unknown>,
): { stored: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const stored: Record<string, unknown> = {};
  const known = type === 'eylandoo' ? ['paths'] : type === '3x-ui' ? ['generation', 'cookie_name'] : [];
  for (const key of Object.keys(settings))
    if (!known.includes(key))
      add(
        errors,
        `settings.${key}`,
        known.length ? `not a ${type} setting (${known.join(', ')})` : `a ${type} panel has no settings`,
      );
  if (type === 'eylandoo' && settings.paths !== undefined) {
    const paths = settings.paths;
    if (!isPlainObject(paths)) add(errors, 'settings.paths', 'must be an object ({ user })');
    else {
      for (const key of Object.keys(paths))
        if (key !== 'user') add(errors, `settings.paths.${key}`, 'not a path (user)');
      const user = paths.user;
      if (user !== undefined) {
        if (typeof user !== 'string' || !user.startsWith('/') || !user.includes('{username}') || user.length > 500)
          add(
            errors,
            'settings.paths.user',
            `must be a path starting with / and holding {username} (${EYLANDOO_USER_PATH})`,
          );
        else stored.paths = { user };
      }
    }
  }
  if (type === '3x-ui') {
    if (settings.generation !== undefined) {
      if (!THREEXUI_GENERATIONS.includes(settings.generation as string))
        add(errors, 'settings.generation', `must be one of ${THREEXUI_GENERATIONS.join(', ')}`);
      else stored.generation = settings.generation;
    }
    if (settings.cookie_name !== undefined) {
      if (typeof settings.cookie_name !== 'string' || !COOKIE_NAME.test(settings.cookie_name))
        add(errors, 'settings.cookie_name', 'must be a cookie name (1–64 characters, no spaces, ; or =)');
      else stored.cookieName = settings.cookie_name;
    }
  }
  return { stored, errors };
}

/** Stored settings as the API shows them (snake_case). */
export function apiSettings(type: PanelType, stored: Record<string, unknown> | null): Record<string, unknown> {
  if (!stored) return {};
  if (type !== '3x-ui') return stored;
  const { cookieName, ...rest } = stored;
  return cookieName === undefined ? rest : { ...rest, cookie_name: cookieName };
}

/**
 * The credentials a panel keeps after a request: the previous ones the type reads, with the given ones set or removed.
 * Refused (each field named): a credential the type does not read, and a set the type cannot log in with (eylandoo:
 * api_key; marzban, marzneshin: username and password; 3x-ui: username and password, or api_token on a v3.1 panel).
 */
export function checkCredentials(
  type: PanelType,
  previous: PanelCredentials,
  given: GivenCredentials,
  storedSettings: Record<string, unknown>,
): { credentials: PanelCredentials; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const read = CREDENTIALS_READ[type];
  const credentials: PanelCredentials = {};
  for (const field of read) {
    const key = CREDENTIAL_OF[field];
    const value = given[field] === undefined ? previous[key] : given[field];
    if (value) credentials[key] = value;
  }
  for (const field of Object.keys(given) as PanelCredentialField[])
    if (given[field] !== undefined && given[field] !== null && !read.includes(field))
      add(errors, field, `a ${type} panel does not use ${field} (it uses ${read.join(', ')})`);
  const missing = (field: PanelCredentialField) => !credentials[CREDENTIAL_OF[field]];
  const needs = (field: PanelCredentialField, why: string) => {
    if (missing(field)) add(errors, field, why);
  };
  switch (type) {
    case 'eylandoo':
      needs('api_key', 'an eylandoo panel needs api_key (sent as X-API-Key)');
      break;
    case 'marzban':
    case 'marzneshin':
      needs('username', `a ${type} panel needs username and password`);
      needs('password', `a ${type} panel needs username and password`);
      break;
    case '3x-ui': {
      const token = !missing('api_token');
      if (token && storedSettings.generation !== 'v3.1' && missing('username') && missing('password'))
        add(
          errors,
          'api_token',
          'an api_token is used only on a v3.1 panel (settings.generation v3.1); else give username and password',
        );
      if (!token || !missing('username') || !missing('password')) {
        needs('username', 'a 3x-ui panel needs username and password, or api_token on a v3.1 panel');
        needs('password', 'a 3x-ui panel needs username and password, or api_token on a v3.1 panel');
      }
      break;
    }
  }
  return { credentials, errors };
}
