import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateClient } from '@sync-hub/simulators';
import { mapRobawsClient, RobawsClientRecord } from './normalise';

/**
 * The Robaws simulator's seeded clients through the CRM normalisation: the simulator's messy phones and VAT numbers
 * are what the real pull will meet, so the two must agree on what is valid (the seed marks about 3% of each invalid
 * on purpose) and nothing may be dropped.
 */
describe("the Robaws simulator's clients, normalised", () => {
  const clients = Array.from({ length: 2000 }, (_, i) => generateClient(7, 1001 + i));
  const mapped = clients.map((c) => mapRobawsClient(c as unknown as RobawsClientRecord, 'BE'));

  it('maps every client, keeping its id, its whole record and a phone or VAT as given when invalid', () => {
    assert.equal(mapped.length, clients.length);
    mapped.forEach((m, i) => {
      assert.equal(m.fields.robawsId, String(clients[i].id));
      assert.deepEqual(m.fields.metadata, clients[i]);
    });
  });

  it('reads most phones as valid E.164 and flags the deliberately bad ones, never dropping them', () => {
    const flagged = mapped.filter((m) => m.invalidPhones.length > 0).length;
    assert.ok(flagged > 0 && flagged / mapped.length < 0.1, `${flagged} of ${mapped.length} with an invalid phone`);
    for (const m of mapped) if (m.fields.phone !== null) assert.match(m.fields.phone, /^\+\d{6,15}$/);
  });

  it('reads most VAT numbers as valid and flags the mistyped ones, keeping them', () => {
    const flagged = mapped.filter((m) => m.invalidVat);
    assert.ok(flagged.length > 0 && flagged.length / mapped.length < 0.1, `${flagged.length} invalid VAT numbers`);
    for (const m of flagged) assert.ok(m.fields.vatNumber, 'an invalid VAT number is kept');
  });

  it('finds a role on most clients and none on some', () => {
    const none = mapped.filter((m) => m.fields.role === null).length;
    assert.ok(none > 0 && none / mapped.length < 0.25, `${none} without a role`);
  });
});
