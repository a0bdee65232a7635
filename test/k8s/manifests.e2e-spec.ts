import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkManifests,
  checkPodSecurity,
  checkSchema,
  describeObject,
  K8sObject,
  renderKustomization,
} from './manifest-check';

/**
 * Renders k8s/base and every overlay with `kubectl kustomize`, as an operator would from a clean checkout: a copy of
 * k8s/ without any real secrets.env, the committed example in its place. No cluster is needed.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const K8S = path.join(ROOT, 'k8s');
const OVERLAYS = fs.readdirSync(path.join(K8S, 'overlays')).sort();
const EXAMPLE = fs.readFileSync(path.join(K8S, 'secrets.env.example'), 'utf8');

type Json = Record<string, any>;

let work: string;

function copyWithoutSecrets(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-k8s-'));
  fs.cpSync(K8S, dir, { recursive: true, filter: (src) => path.basename(src) !== 'secrets.env' });
  return dir;
}

function withExampleSecrets(dir: string): string {
  for (const overlay of OVERLAYS) fs.writeFileSync(path.join(dir, 'overlays', overlay, 'secrets.env'), EXAMPLE);
  return dir;
}

function only(objects: K8sObject[], kind: string, name: string): Json {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0];
}

function envOf(deployment: Json): Map<string, string> {
  const env = deployment.spec.template.spec.containers[0].env ?? [];
  return new Map(env.map((e: Json) => [e.name, e.value]));
}

before(() => {
  try {
    execFileSync(process.env.KUBECTL ?? 'kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    throw new Error('kubectl is needed to render k8s/ (it comes with the machine image); set KUBECTL=<path> otherwise');
  }
  work = withExampleSecrets(copyWithoutSecrets());
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('k8s/base', () => {
  it('renders objects that the Kubernetes schemas and the restricted pod security profile accept', async () => {
    const objects = renderKustomization(path.join(work, 'base'));
    assert.ok(objects.length > 20, 'the base renders every object');
    const problems = [...(await Promise.all(objects.map((o) => checkSchema(o)))).flat(), ...checkPodSecurity(objects)];
    assert.deepEqual(problems, []);
  });
});

for (const overlay of OVERLAYS) {
  describe(`k8s/overlays/${overlay}`, () => {
    let objects: K8sObject[];
    before(() => {
      objects = renderKustomization(path.join(work, 'overlays', overlay));
    });

    it('passes every check: schemas, unknown fields, pod security, variables known and required ones set', async () => {
      assert.deepEqual(await checkManifests(objects), []);
    });

    it('puts everything in its own Namespace, which enforces the restricted profile', () => {
      const namespaces = objects.filter((o) => o.kind === 'Namespace');
      assert.equal(namespaces.length, 1);
      const name = namespaces[0].metadata.name;
      assert.equal((namespaces[0].metadata.labels as Json)['pod-security.kubernetes.io/enforce'], 'restricted');
      const elsewhere = objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== name);
      assert.deepEqual(elsewhere.map(describeObject), []);
    });

    it("points the gateway's SCHEDULER_URL at the scheduler's Service and port", () => {
      const url = new URL(envOf(only(objects, 'Deployment', 'gateway')).get('SCHEDULER_URL') ?? 'http://unset');
      const [serviceName] = url.hostname.split('.');
      const service = only(objects, 'Service', serviceName);
      assert.equal(service.spec.selector['app.kubernetes.io/name'], 'scheduler');
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      assert.ok(
        service.spec.ports.some((p: Json) => p.port === port),
        `the scheduler Service listens on ${port}`,
      );
    });

    it('runs two schedulers, and no HPA or PDB says otherwise', () => {
      assert.equal(only(objects, 'Deployment', 'scheduler').spec.replicas, 2);
      const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
      assert.ok(!hpas.some((h) => (h.spec as Json).scaleTargetRef.name === 'scheduler'));
      const pdb = only(objects, 'PodDisruptionBudget', 'scheduler').spec;
      assert.ok(pdb.maxUnavailable >= 1 || pdb.minAvailable <= 1, 'a node drain can move one scheduler at a time');
      for (const hpa of hpas) {
        const target = only(objects, 'Deployment', (hpa.spec as Json).scaleTargetRef.name);
        assert.equal(target.spec.replicas, undefined, `${target.metadata.name}: its HPA owns the replica count`);
      }
    });

    it('logs JSON and keeps run history for a set number of days', () => {
      const config = objects.find((o) => o.kind === 'ConfigMap') as Json;
      assert.equal(config.data.LOG_FORMAT, 'json');
      assert.match(envOf(only(objects, 'Deployment', 'gateway')).get('RUN_HISTORY_RETENTION_DAYS') ?? '', /^\d+$/);
    });

    it('builds the Secret from secrets.env, holding every key of the example', () => {
      const secrets = objects.filter((o) => o.kind === 'Secret');
      assert.equal(secrets.length, 1);
      assert.match(secrets[0].metadata.name, /^sync-hub-secrets-[a-z0-9]+$/, 'hashed: a changed secret rolls the pods');
      const exampleKeys = EXAMPLE.split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.slice(0, l.indexOf('=')));
      assert.deepEqual(Object.keys(secrets[0].data as Json).sort(), exampleKeys.sort());
    });

    it('names each Job for the image tag, so the next release applies beside the previous one', () => {
      const jobs = objects.filter((o) => o.kind === 'Job');
      assert.deepEqual(jobs.map((j) => j.metadata.name.replace(/-[^-]+$/, '')).sort(), [
        'sync-hub-migrate',
        'sync-hub-topics',
      ]);
      for (const job of jobs) {
        const image: string = (job.spec as Json).template.spec.containers[0].image;
        const tag = image.slice(image.lastIndexOf(':') + 1);
        assert.ok(job.metadata.name.endsWith(`-${tag}`), `${job.metadata.name} carries ${tag}`);
        assert.match(job.metadata.name, /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, 'a valid Job name');
        assert.ok((job.spec as Json).ttlSecondsAfterFinished > 0, 'a finished Job is removed in time');
      }

      // The next release: only the tag changes. Its Jobs are new objects; every other object keeps its name.
      const next = withExampleSecrets(copyWithoutSecrets());
      try {
        const file = path.join(next, 'overlays', overlay, 'kustomization.yaml');
        const kustomization = fs.readFileSync(file, 'utf8');
        const tag = /newTag: ['"]?[\w.-]+['"]?/;
        assert.match(kustomization, tag);
        fs.writeFileSync(file, kustomization.replace(tag, 'newTag: 9.9.9-next'));
        const release = renderKustomization(path.join(next, 'overlays', overlay));
        const names = (list: K8sObject[], jobsOnly: boolean) =>
          list.filter((o) => (o.kind === 'Job') === jobsOnly).map(describeObject);
        assert.deepEqual(names(release, true).sort(), [
          'Job/sync-hub-migrate-9.9.9-next',
          'Job/sync-hub-topics-9.9.9-next',
        ]);
        assert.ok(!names(release, true).some((n) => names(objects, true).includes(n)));
        assert.deepEqual(names(release, false), names(objects, false));
      } finally {
        fs.rmSync(next, { recursive: true, force: true });
      }
    });

    it('refuses to render without secrets.env, rather than deploying the example', () => {
      const clean = copyWithoutSecrets();
      try {
        assert.throws(() => renderKustomization(path.join(clean, 'overlays', overlay)), /secrets\.env/);
      } finally {
        fs.rmSync(clean, { recursive: true, force: true });
      }
    });
  });
}

describe('k8s secrets', () => {
  it('git ignores every overlay secrets.env, and commits only the example', () => {
    for (const overlay of OVERLAYS) {
      const file = path.join('k8s', 'overlays', overlay, 'secrets.env');
      execFileSync('git', ['check-ignore', '--quiet', '--no-index', file], { cwd: ROOT });
    }
    assert.throws(() =>
      execFileSync('git', ['check-ignore', '--quiet', '--no-index', 'k8s/secrets.env.example'], { cwd: ROOT }),
    );
  });
});
