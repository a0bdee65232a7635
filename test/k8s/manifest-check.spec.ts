import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkManifests, K8sObject } from './manifest-check';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const restrictedPod = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } };
const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};
const resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
const envFrom = [{ configMapRef: { name: 'config' } }, { secretRef: { name: 'secrets' } }];

/** A small deployment that passes every check; each test breaks one thing in a fresh copy. */
function valid(): K8sObject[] {
  // Through JSON, so no two objects share the constants above (structuredClone would keep them shared).
  return JSON.parse(
    JSON.stringify([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'config', namespace: 'hub' },
        data: { KAFKA_BROKERS: 'kafka:9092', KAFKA_TOPIC_PARTITIONS: '6', LOG_FORMAT: 'json' },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'secrets', namespace: 'hub' },
        type: 'Opaque',
        data: {
          DATABASE_URL: b64('mysql://hub:pw@db:3306/hub'),
          GATEWAY_API_KEYS: b64('k'.repeat(24)),
          SECRETS_KEY: b64(Buffer.alloc(32, 7).toString('base64')),
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'gateway', namespace: 'hub' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'gateway' } },
          template: {
            metadata: { labels: { app: 'gateway' } },
            spec: {
              securityContext: restrictedPod,
              containers: [
                {
                  name: 'gateway',
                  image: 'hub:1',
                  args: ['dist/apps/gateway/main.js'],
                  envFrom,
                  env: [
                    { name: 'SCHEDULER_URL', value: 'http://scheduler' },
                    { name: 'ACCOUNTING_SYNC_URL', value: 'http://accounting-sync' },
                    { name: 'CRM_SYNC_URL', value: 'http://crm-sync' },
                    { name: 'USAGE_SYNC_URL', value: 'http://usage-sync' },
                  ],
                  resources,
                  securityContext: restrictedContainer,
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'migrate', namespace: 'hub' },
        spec: {
          template: {
            spec: {
              restartPolicy: 'OnFailure',
              securityContext: restrictedPod,
              containers: [
                {
                  name: 'migrate',
                  image: 'hub:1',
                  args: ['dist/apps/cli/main.js', 'migrate'],
                  envFrom,
                  resources,
                  securityContext: restrictedContainer,
                },
              ],
            },
          },
        },
      },
    ]),
  ) as K8sObject[];
}

type Json = Record<string, any>;
const named = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind) as Json;
const gatewayContainer = (objects: K8sObject[]) => named(objects, 'Deployment').spec.template.spec.containers[0];

async function problemsAfter(breakIt: (objects: K8sObject[]) => void): Promise<string[]> {
  const objects = valid();
  breakIt(objects);
  return checkManifests(objects);
}

function assertNamed(problems: string[], ...fragments: string[]): void {
  for (const fragment of fragments) {
    assert.ok(
      problems.some((p) => p.includes(fragment)),
      `expected a problem naming "${fragment}", got:\n${problems.join('\n')}`,
    );
  }
}

describe('checkManifests', () => {
  it('passes a deployment that the schemas, the pod security profile and the config DTO all accept', async () => {
    assert.deepEqual(await checkManifests(valid()), []);
  });

  describe('against the Kubernetes OpenAPI schemas', () => {
    it('fails on an unknown field, at any depth', async () => {
      const problems = await problemsAfter((objects) => {
        named(objects, 'Deployment').spec.replica = 3;
        gatewayContainer(objects).resources.limit = { memory: '1Gi' };
        named(objects, 'Job').metadata.lables = { a: 'b' };
      });
      assertNamed(
        problems,
        'Deployment/gateway: /spec/replica is not a field of Deployment',
        '/spec/template/spec/containers/0/resources/limit is not a field',
        'Job/migrate: /metadata/lables is not a field',
      );
    });

    it('fails on a wrong type, a bad quantity and a missing required field', async () => {
      const problems = await problemsAfter((objects) => {
        named(objects, 'Deployment').spec.replicas = 'two';
        gatewayContainer(objects).resources.requests.cpu = 'a lot';
        delete named(objects, 'Job').spec.template.spec.containers[0].name;
      });
      assertNamed(
        problems,
        '/spec/replicas must be integer',
        'requests/cpu must match format',
        'containers/0 must have required property name',
      );
    });

    it('accepts base64 wrapped over lines, as kustomize writes it, and rejects what is not base64', async () => {
      const wrapped = await problemsAfter((objects) => {
        const data = named(objects, 'Secret').data;
        data.DATABASE_URL = `${data.DATABASE_URL.slice(0, 8)}\n${data.DATABASE_URL.slice(8)}\n`;
      });
      assert.deepEqual(wrapped, []);
      const problems = await problemsAfter((objects) => {
        named(objects, 'Secret').data.SPLYNX_API_KEY = 'plain text!';
      });
      assertNamed(problems, 'Secret/secrets: /data/SPLYNX_API_KEY must match format "byte"');
    });

    it('fails on a kind Kubernetes does not have, or a type that is not a resource', async () => {
      const problems = await problemsAfter((objects) => {
        objects.push({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'typo' } });
        objects.push({ apiVersion: 'v1', kind: 'Container', metadata: { name: 'part' } });
        objects.push({ apiVersion: 'apps/v9', kind: 'Deployment', metadata: { name: 'version' } });
      });
      assertNamed(problems, 'apps/v1 Deploymnet is not a Kubernetes kind', 'v1 Container is not', 'apps/v9 Deployment');
    });
  });

  describe('against the config DTO', () => {
    it('fails on a variable EnvironmentVariables does not declare, in env or in an envFrom ConfigMap', async () => {
      const problems = await problemsAfter((objects) => {
        gatewayContainer(objects).env.push({ name: 'SCHEDULER_ULR', value: 'http://scheduler' });
        named(objects, 'ConfigMap').data.LOG_FROMAT = 'json';
      });
      assertNamed(
        problems,
        'container gateway: SCHEDULER_ULR (from env) is not a variable',
        'container gateway: LOG_FROMAT (from ConfigMap config)',
        'container migrate: LOG_FROMAT (from ConfigMap config)',
      );
    });

    it("fails when an app's required variable is set by no manifest", async () => {
      const problems = await problemsAfter((objects) => {
        gatewayContainer(objects).env = [];
        delete named(objects, 'Secret').data.DATABASE_URL;
      });
      assertNamed(
        problems,
        'Deployment/gateway container gateway: gateway needs SCHEDULER_URL',
        'Deployment/gateway container gateway: gateway needs DATABASE_URL',
        'Job/migrate container migrate: cli needs DATABASE_URL',
      );
    });

    it('asks for the Splynx key and secret once SPLYNX_URL is set', async () => {
      const problems = await problemsAfter((objects) => {
        named(objects, 'ConfigMap').data.SPLYNX_URL = 'https://splynx.example.com';
      });
      assertNamed(problems, 'gateway needs SPLYNX_API_KEY', 'cli needs SPLYNX_API_SECRET');
    });

    it('fails on a value loadConfig rejects, without echoing values', async () => {
      const problems = await problemsAfter((objects) => {
        named(objects, 'ConfigMap').data.KAFKA_TOPIC_PARTITIONS = 'six';
        named(objects, 'Secret').data.GATEWAY_API_KEYS = b64('short-secret');
      });
      assertNamed(
        problems,
        'container gateway: KAFKA_TOPIC_PARTITIONS must',
        'container migrate: GATEWAY_API_KEYS must',
      );
      assert.ok(!problems.some((p) => p.includes('short-secret')), 'no secret value in a problem');
    });

    it('fails on an envFrom source that is not defined, and a container that runs no known app', async () => {
      const problems = await problemsAfter((objects) => {
        gatewayContainer(objects).envFrom.push({ configMapRef: { name: 'elsewhere' } });
        named(objects, 'Job').spec.template.spec.containers[0].args = ['dist/apps/reporting/main.js'];
      });
      assertNamed(problems, 'reads ConfigMap elsewhere, which is not defined', 'runs app reporting');
    });
  });

  describe("the Node flags an app's container starts it with", () => {
    it('passes heap caps that fit under the memory limit', async () => {
      const problems = await problemsAfter((objects) => {
        gatewayContainer(objects).args = [
          '--max-semi-space-size=16',
          '--max-old-space-size=128',
          'dist/apps/gateway/main.js',
        ];
      });
      assert.deepEqual(problems, []);
    });

    it('fails on heap caps above the memory limit, caps without a limit, and an argument that is not a flag', async () => {
      const problems = await problemsAfter((objects) => {
        gatewayContainer(objects).args = ['--max-old-space-size=240', 'verbose', 'dist/apps/gateway/main.js'];
        const job = named(objects, 'Job').spec.template.spec.containers[0];
        job.args = ['--max-semi-space-size=8', ...job.args];
        delete job.resources.limits;
      });
      assertNamed(
        problems,
        "V8's heap caps (304 MiB with the rest of the process) exceed its 256 MiB limit",
        '"verbose" before the script is not a Node flag',
        "caps V8's heap but sets no memory limit",
      );
    });
  });

  describe('against the restricted pod security profile', () => {
    it('fails on a Job without a security context or resources', async () => {
      const problems = await problemsAfter((objects) => {
        const pod = named(objects, 'Job').spec.template.spec;
        delete pod.securityContext;
        delete pod.containers[0].securityContext;
        delete pod.containers[0].resources;
      });
      assertNamed(
        problems,
        'Job/migrate container migrate: runAsNonRoot is not true',
        'allowPrivilegeEscalation is not false',
        'capabilities do not drop ALL',
        'seccompProfile is not RuntimeDefault',
        'the root filesystem is writable',
        'no cpu request',
        'no memory limit',
      );
    });
  });
});
