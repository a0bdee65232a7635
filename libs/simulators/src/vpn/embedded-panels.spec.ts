import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EMBEDDED_UNKNOWN_USER, EmbeddedVpnPanels, startEmbeddedVpnPanels } from './embedded-panels';

const GIB = 1024 ** 3;

describe("the embedded mode's VPN panels", () => {
  let vpn: EmbeddedVpnPanels;
  before(async () => (vpn = await startEmbeddedVpnPanels()));
  after(() => vpn.stop());

  it('one simulator per panel type (3x-ui in both generations), each with 60 configs over the 3 resellers', () => {
    assert.deepEqual(
      vpn.panels.map((p) => [p.type, p.settings.generation ?? null, p.configs.length]),
      [
        ['eylandoo', null, 60],
        ['marzban', null, 60],
        ['marzneshin', null, 60],
        ['3x-ui', 'legacy', 60],
        ['3x-ui', 'v3.1', 60],
      ],
    );
    assert.equal(new Set(vpn.panels.map((p) => p.name)).size, 5, 'names mark the seeded panels: unique');
    for (const p of vpn.panels) {
      assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+\/?$/);
      assert.deepEqual(
        p.configs.filter((c) => c.username === '' || c.username === EMBEDDED_UNKNOWN_USER).length,
        2,
        'one empty username and one unknown user',
      );
      assert.deepEqual(new Set(p.configs.map((c) => c.reseller)), new Set([0, 1, 2]));
    }
  });

  it('the panels answer the planned usage with the given credentials, and do not know the unknown user', async () => {
    const marzban = vpn.panels.find((p) => p.type === 'marzban')!;
    const form = new URLSearchParams({
      username: marzban.credentials.username!,
      password: marzban.credentials.password!,
    });
    const token = await fetch(`${marzban.url}/api/admin/token`, { method: 'POST', body: form });
    assert.equal(token.status, 200);
    const { access_token } = (await token.json()) as { access_token: string };
    const read = (user: string) =>
      fetch(`${marzban.url}/api/user/${user}`, { headers: { authorization: `Bearer ${access_token}` } });
    // user9: a 10 GiB limit (the 2nd of the limits) and 84 % of it used at the start.
    const user9 = marzban.configs.find((c) => c.username === 'user9')!;
    const answer = (await (await read('user9')).json()) as { used_traffic: number };
    assert.equal(user9.trafficLimitBytes, 10 * GIB);
    assert.ok(answer.used_traffic / user9.trafficLimitBytes >= 0.8, 'user9 starts past 80 % of its limit');
    assert.equal((await read(EMBEDDED_UNKNOWN_USER)).status, 404);
  });

  it('setUsage carries a user on from a stored usage, and refuses a user the panel does not know', () => {
    const marzneshin = vpn.panels.find((p) => p.type === 'marzneshin')!;
    assert.equal(marzneshin.setUsage('user3', 7 * GIB), true);
    assert.equal(marzneshin.setUsage(EMBEDDED_UNKNOWN_USER, GIB), false);
    assert.equal(marzneshin.setUsage('user9999', GIB), false, "beyond the panel's users");
  });
});
