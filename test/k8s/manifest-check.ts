import { execFileSync } from 'node:child_process';
import { loadAll } from 'js-yaml';
import {
  ConfigValidationError,
  environmentVariableNames,
  isDeployedApp,
  loadConfig,
  missingDistributedVariables,
} from '@sync-hub/config';

/**
 * Checks rendered Kubernetes manifests against what the cluster and the apps will accept: the Kubernetes OpenAPI
 * schemas (offline, through kubernetes-models), unknown kinds and fields, the restricted pod security profile, and
 * the environment each container gets against the config DTO. Each check returns problems; none means it passed.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

type Json = Record<string, unknown>;

/** `kubectl kustomize <dir>`: kubectl's built-in kustomize, so no second tool is needed. */
export function renderKustomization(dir: string): K8sObject[] {
  const yaml = execFileSync(process.env.KUBECTL ?? 'kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return loadAll(yaml).filter((doc): doc is K8sObject => doc !== null && typeof doc === 'object');
}

export function describeObject(obj: K8sObject): string {
  return `${obj.kind}/${obj.metadata?.name ?? '?'}`;
}

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(this: unknown): void };
}

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | null> {
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z]\w*$/.test(kind)) return null;
  try {
    const group = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, ModelClass | undefined>;
    const model = group[kind];
    // A group exports its field types too (v1 Container); only a resource carries its own apiVersion and kind.
    return model?.kind === kind && model.apiVersion === apiVersion ? model : null;
  } catch {
    return null;
  }
}

/**
 * Wraps `value` so every property the schema validator reads is recorded by path. The compiled validators read each
 * property their schema declares (and enumerate free-form maps), so a key present in an object but never read
 * there is a field the schema does not know.
 */
function recordReads(value: unknown, path: string, reads: Map<string, Set<string>>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const seen = reads.get(path) ?? new Set<string>();
  reads.set(path, seen);
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
      seen.add(key);
      return recordReads(v, `${path}/${key}`, reads);
    },
    ownKeys(target) {
      const keys = Reflect.ownKeys(target);
      for (const k of keys) if (typeof k === 'string') seen.add(k);
      return keys;
    },
  });
}

function unreadKeys(value: unknown, path: string, reads: Map<string, Set<string>>): string[] {
  if (value === null || typeof value !== 'object') return [];
  const seen = reads.get(path);
  // An object the validator never looked into has a free-form schema (none of ours do); only typed ones are checked.
  const typed = !Array.isArray(value) && seen !== undefined && seen.size > 0;
  return Object.entries(value).flatMap(([key, child]) =>
    typed && !seen.has(key) ? [`${path}/${key}`] : unreadKeys(child, `${path}/${key}`, reads),
  );
}

/**
 * kustomize wraps long base64 values over several lines; the API server's decoder (Go's base64) skips line breaks,
 * the schema's `byte` format does not.
 */
function withUnwrappedBase64(obj: K8sObject): K8sObject {
  const field = obj.kind === 'Secret' ? 'data' : obj.kind === 'ConfigMap' ? 'binaryData' : null;
  const data = field ? (obj[field] as Record<string, unknown> | undefined) : undefined;
  if (!field || !data || typeof data !== 'object') return obj;
  const unwrapped = Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]);
  return { ...obj, [field]: Object.fromEntries(unwrapped) };
}

/** The object against its kind's OpenAPI schema; unknown kinds and unknown fields are problems too. */
export async function checkSchema(obj: K8sObject): Promise<string[]> {
  const where = describeObject(obj);
  const model = await modelFor(String(obj.apiVersion), String(obj.kind));
  if (!model) return [`${where}: ${obj.apiVersion} ${obj.kind} is not a Kubernetes kind`];
  const reads = new Map<string, Set<string>>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(recordReads(withUnwrappedBase64(obj), '', reads));
  } catch (err) {
    const errors = (err as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    if (!errors) throw err;
    problems.push(...errors.map((e) => `${where}: ${e.instancePath || '/'} ${e.message}`));
  }
  problems.push(...unreadKeys(obj, '', reads).map((p) => `${where}: ${p} is not a field of ${obj.kind}`));
  return problems;
}

interface PodTemplate {
  owner: K8sObject;
  spec: Json;
}

/** The pod spec of every workload kind that has one. */
function podTemplates(objects: K8sObject[]): PodTemplate[] {
  const pods: PodTemplate[] = [];
  for (const obj of objects) {
    const spec = obj.spec as Json | undefined;
    let pod: unknown;
    if (obj.kind === 'Pod') pod = spec;
    else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(obj.kind)) {
      pod = (spec?.template as Json | undefined)?.spec;
    } else if (obj.kind === 'CronJob') {
      pod = (((spec?.jobTemplate as Json | undefined)?.spec as Json | undefined)?.template as Json | undefined)?.spec;
    }
    if (pod && typeof pod === 'object') pods.push({ owner: obj, spec: pod as Json });
  }
  return pods;
}

function containersOf(pod: Json): Json[] {
  return [...((pod.initContainers as Json[] | undefined) ?? []), ...((pod.containers as Json[] | undefined) ?? [])];
}

/**
 * The restricted Pod Security Standard (the namespace enforces it) plus the house rules: a read-only root
 * filesystem and resource requests and a memory limit on every container.
 */
export function checkPodSecurity(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { owner, spec } of podTemplates(objects)) {
    const podCtx = (spec.securityContext as Json | undefined) ?? {};
    for (const c of containersOf(spec)) {
      const where = `${describeObject(owner)} container ${String(c.name)}`;
      const ctx = (c.securityContext as Json | undefined) ?? {};
      const seccomp = ((ctx.seccompProfile ?? podCtx.seccompProfile) as Json | undefined)?.type;
      const drop = ((ctx.capabilities as Json | undefined)?.drop as string[] | undefined) ?? [];
      const resources = (c.resources as Json | undefined) ?? {};
      const requests = (resources.requests as Json | undefined) ?? {};
      const limits = (resources.limits as Json | undefined) ?? {};
      if ((ctx.runAsNonRoot ?? podCtx.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if (ctx.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (!drop.includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
        problems.push(`${where}: seccompProfile is not RuntimeDefault`);
      }
      if (ctx.privileged === true) problems.push(`${where}: is privileged`);
      if (ctx.readOnlyRootFilesystem !== true) problems.push(`${where}: the root filesystem is writable`);
      for (const key of ['cpu', 'memory']) if (!requests[key]) problems.push(`${where}: no ${key} request`);
      if (!limits.memory) problems.push(`${where}: no memory limit`);
    }
  }
  return problems;
}

function findData(objects: K8sObject[], kind: 'ConfigMap' | 'Secret', name: string, namespace?: string) {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  if (!obj) return null;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries((obj.data as Record<string, string> | undefined) ?? {})) {
    data[k] = kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  }
  return { ...data, ...((obj.stringData as Record<string, string> | undefined) ?? {}) };
}

/**
 * The environment of every container that runs one of the apps (`dist/apps/<app>/main.js` in its args): every
 * variable must be one the config DTO declares, the app's distributed-mode requirements must be met (env or
 * envFrom), and the values must pass loadConfig. Values never appear in a problem (some are secrets).
 */
export function checkEnvironment(objects: K8sObject[]): string[] {
  const known = new Set<string>(environmentVariableNames());
  const problems: string[] = [];
  for (const { owner, spec } of podTemplates(objects)) {
    const namespace = owner.metadata.namespace;
    for (const c of containersOf(spec)) {
      const where = `${describeObject(owner)} container ${String(c.name)}`;
      const env = new Map<string, string | undefined>();
      const setBy = new Map<string, string>();
      for (const from of (c.envFrom as Json[] | undefined) ?? []) {
        const ref = (from.configMapRef ?? from.secretRef) as Json | undefined;
        if (!ref) continue;
        const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
        const data = findData(objects, kind, String(ref.name), namespace);
        if (!data) {
          if (ref.optional !== true) problems.push(`${where}: reads ${kind} ${String(ref.name)}, which is not defined`);
          continue;
        }
        for (const [key, value] of Object.entries(data)) {
          const name = `${(from.prefix as string | undefined) ?? ''}${key}`;
          env.set(name, value);
          setBy.set(name, `${kind} ${String(ref.name)}`);
        }
      }
      for (const e of (c.env as Json[] | undefined) ?? []) {
        const name = String(e.name);
        const keyRef = ((e.valueFrom as Json | undefined)?.configMapKeyRef ??
          (e.valueFrom as Json | undefined)?.secretKeyRef) as Json | undefined;
        const refKind = (e.valueFrom as Json | undefined)?.configMapKeyRef ? 'ConfigMap' : 'Secret';
        const value = keyRef
          ? findData(objects, refKind, String(keyRef.name), namespace)?.[String(keyRef.key)]
          : (e.value as string | undefined);
        if (keyRef && value === undefined && keyRef.optional !== true) {
          problems.push(`${where}: ${name} reads ${String(keyRef.key)} of ${refKind} ${String(keyRef.name)}, absent`);
        }
        env.set(name, value);
        setBy.set(name, 'env');
      }
      for (const name of env.keys()) {
        if (!known.has(name)) {
          problems.push(`${where}: ${name} (from ${setBy.get(name)}) is not a variable EnvironmentVariables declares`);
        }
      }

      const args = [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])];
      const app = args.map((a) => /(?:^|\/)dist\/apps\/([\w-]+)\/main\.js$/.exec(a)?.[1]).find(Boolean);
      if (!app || !isDeployedApp(app)) {
        problems.push(`${where}: runs ${app ? `app ${app}, which is not deployable` : 'no dist/apps/<app>/main.js'}`);
        continue;
      }
      const missing = missingDistributedVariables(app, env.keys());
      for (const r of missing) problems.push(`${where}: ${app} needs ${r.name} (${r.why}); no manifest sets it`);
      if (missing.length > 0) continue;
      try {
        loadConfig(app, Object.fromEntries(env));
      } catch (err) {
        if (!(err instanceof ConfigValidationError)) throw err;
        problems.push(...err.problems.map((p) => `${where}: ${p}`));
      }
    }
  }
  return problems;
}

const MEBIBYTES: Record<string, number> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  K: 1e3 / 2 ** 20,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

/** A memory quantity (`512Mi`, `1G`, bytes) in MiB; null when it is not one. */
function mebibytes(quantity: unknown): number | null {
  const text = typeof quantity === 'string' || typeof quantity === 'number' ? String(quantity) : '';
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text);
  return m ? Number(m[1]) * (m[2] ? MEBIBYTES[m[2]] : 1 / 2 ** 20) : null;
}

/**
 * The Node flags a container starts its app with (what comes before `dist/apps/<app>/main.js` in its args): each must
 * be a flag, and V8's heap caps must leave room under the memory limit, since a heap larger than the limit is an
 * OOM kill rather than a collection. Heap: the old generation, three semi-spaces (two, and the one promoted from), and
 * 64 MiB for code, buffers and the rest of the process; a cap with no limit set is a problem too.
 */
export function checkNodeFlags(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { owner, spec } of podTemplates(objects)) {
    for (const c of containersOf(spec)) {
      const where = `${describeObject(owner)} container ${String(c.name)}`;
      const args = (c.args as string[] | undefined) ?? [];
      const script = args.findIndex((a) => /(?:^|\/)dist\/apps\/[\w-]+\/main\.js$/.test(a));
      if (script <= 0) continue;
      const flags = args.slice(0, script);
      for (const flag of flags.filter((f) => !/^--[a-z][\w-]*(=\S+)?$/.test(f)))
        problems.push(`${where}: ${JSON.stringify(flag)} before the script is not a Node flag`);
      const size = (name: string) => {
        const value = flags
          .map((f) => new RegExp(`^--${name}=(\\d+)$`).exec(f)?.[1])
          .filter(Boolean)
          .pop();
        return value === undefined ? null : Number(value);
      };
      const oldSpace = size('max-old-space-size');
      const semiSpace = size('max-semi-space-size');
      if (oldSpace === null && semiSpace === null) continue;
      const limits = (c.resources as { limits?: Json } | undefined)?.limits;
      const limit = mebibytes(limits?.memory);
      if (limit === null) {
        problems.push(`${where}: caps V8's heap but sets no memory limit to size it against`);
        continue;
      }
      const heap = (oldSpace ?? 0) + 3 * (semiSpace ?? 0) + 64;
      if (heap > limit)
        problems.push(
          `${where}: V8's heap caps (${heap} MiB with the rest of the process) exceed its ${limit} MiB limit`,
        );
    }
  }
  return problems;
}

/** Every check over one rendered kustomization. */
export async function checkManifests(objects: K8sObject[]): Promise<string[]> {
  const schema = (await Promise.all(objects.map((o) => checkSchema(o)))).flat();
  return [...schema, ...checkPodSecurity(objects), ...checkEnvironment(objects), ...checkNodeFlags(objects)];
}
