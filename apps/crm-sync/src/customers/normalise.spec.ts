import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractRole,
  isPhoneRegion,
  mapRobawsClient,
  normalisePhone,
  normaliseVat,
  RobawsClientRecord,
} from './normalise';

// The assembled example of section 3 of the upstream reference.
const example = (): RobawsClientRecord => ({
  id: 3473,
  name: '222 CARS',
  email: 'info@222cars.example',
  tel: '+32 9 123 45 67',
  gsm: '+971 50 123 4567',
  vatNumber: 'BE0123456789',
  currency: 'EUR',
  language: 'en',
  address: { addressLine1: 'Kerkstraat 1', addressLine2: null, postalCode: '9000', city: 'Gent', country: 'BE' },
  extraFields: { Role: { type: 'SELECT', group: null, stringValue: 'LUXURY CAR DEALER' } },
  createdAt: '2023-01-15T10:30:00Z',
  updatedAt: '2024-10-01T14:20:00Z',
});

describe('extractRole', () => {
  it('reads extraFields.Role.stringValue, trimmed', () => {
    assert.equal(extractRole(example()), 'LUXURY CAR DEALER');
    assert.equal(extractRole({ extraFields: { Role: { stringValue: '  FORWARDER ' } } }), 'FORWARDER');
  });

  it('is null when the record has no role', () => {
    assert.equal(extractRole({}), null);
    assert.equal(extractRole({ extraFields: null }), null);
    assert.equal(extractRole({ extraFields: {} }), null);
    assert.equal(extractRole({ extraFields: { PRICING: { stringValue: 'B' } } }), null, 'another field only');
    assert.equal(extractRole({ extraFields: { Role: null } }), null);
    assert.equal(extractRole({ extraFields: { Role: { type: 'SELECT', group: null } } }), null, 'no stringValue');
    assert.equal(extractRole({ extraFields: { Role: { stringValue: '   ' } } }), null, 'blank');
    assert.equal(extractRole({ extraFields: { Role: { booleanValue: true } } }), null, 'a non-text value');
  });

  it('tolerates a differently cased key and a bare string value', () => {
    assert.equal(extractRole({ extraFields: { role: { stringValue: 'OEM' } } }), 'OEM');
    assert.equal(extractRole({ extraFields: { Role: 'RORO' } }), 'RORO');
  });

  it('ignores extraFields that are not an object', () => {
    assert.equal(extractRole({ extraFields: [] as unknown as RobawsClientRecord['extraFields'] }), null);
    assert.equal(extractRole({ extraFields: 'Role' as unknown as RobawsClientRecord['extraFields'] }), null);
  });
});

describe('normalisePhone', () => {
  it('turns messy numbers from several countries into E.164', () => {
    const cases: Array<[string, string, string]> = [
      ['+32 9 123 45 67', 'BE', '+3291234567'],
      ['09 123 45 67', 'BE', '+3291234567'],
      ['0032 (0)9 123 45 67', 'BE', '+3291234567'],
      ['0470/12.34.56', 'BE', '+32470123456'],
      ['+971 50 123 4567', 'BE', '+971501234567'],
      ['06-12345678', 'NL', '+31612345678'],
      ['+31 6 12345678', 'BE', '+31612345678'],
      ['+49 (0)30 1234567', 'BE', '+49301234567'],
      ['01 42 68 53 00', 'FR', '+33142685300'],
      ['+44 20 7946 0958', 'BE', '+442079460958'],
      ['(212) 555-0123', 'US', '+12125550123'],
    ];
    for (const [raw, region, e164] of cases)
      assert.deepEqual(normalisePhone(raw, region), { value: e164, valid: true }, `${raw} in ${region}`);
  });

  it('reads a national number with the default region given', () => {
    assert.equal(normalisePhone('06-12345678', 'NL').value, '+31612345678');
    assert.equal(normalisePhone('06-12345678', 'nl').value, '+31612345678', 'the region in lower case');
    assert.notEqual(normalisePhone('030 123456', 'DE').value, normalisePhone('030 123456', 'NL').value);
  });

  it('drops an extension, which E.164 cannot hold', () => {
    assert.deepEqual(normalisePhone('+32 9 123 45 67 ext. 12', 'BE'), { value: '+3291234567', valid: true });
  });

  it('keeps an unparseable number as given and flags it', () => {
    for (const raw of ['n/a', '12', '0470 12 34 56 / 09 123 45 67', 'call the office'])
      assert.deepEqual(normalisePhone(`  ${raw} `, 'BE'), { value: raw, valid: false }, raw);
  });

  it('keeps a national number as given when the default region is unknown', () => {
    assert.deepEqual(normalisePhone('0470123456', 'XX'), { value: '0470123456', valid: false });
    assert.deepEqual(normalisePhone('+32 470 12 34 56', 'XX'), { value: '+32470123456', valid: true });
  });

  it('is null and not invalid when there is no number', () => {
    for (const raw of [undefined, null, '', '   ', 42])
      assert.deepEqual(normalisePhone(raw, 'BE'), { value: null, valid: true }, String(raw));
  });

  it('knows which regions it can read', () => {
    assert.equal(isPhoneRegion('BE'), true);
    assert.equal(isPhoneRegion('XX'), false);
  });
});

describe('normaliseVat', () => {
  it('removes spaces, dots and dashes and upper-cases, keeping the prefix', () => {
    assert.deepEqual(normaliseVat('be 0417.497.106', 'NL'), { value: 'BE0417497106', valid: true });
    assert.deepEqual(normaliseVat('NL 8104-33-941-B01', 'BE'), { value: 'NL810433941B01', valid: true });
    assert.deepEqual(normaliseVat('de136695976', null), { value: 'DE136695976', valid: true });
    assert.deepEqual(normaliseVat('ATU 135 856 27', 'AT'), { value: 'ATU13585627', valid: true });
    assert.deepEqual(
      normaliseVat('BE\u00a00417\u2013497\u2013106', 'BE'),
      { value: 'BE0417497106', valid: true },
      'nbsp, en dash',
    );
  });

  it("adds the address country's prefix to a number without one", () => {
    assert.deepEqual(normaliseVat('0417.497.106', 'BE'), { value: 'BE0417497106', valid: true });
    assert.deepEqual(normaliseVat('0417 497 106', 'be'), { value: 'BE0417497106', valid: true });
    assert.deepEqual(normaliseVat('403 032 650 45', 'FR'), { value: 'FR40303265045', valid: true });
    assert.deepEqual(normaliseVat('00743110157', 'IT'), { value: 'IT00743110157', valid: true });
  });

  it('uses the VAT prefixes that differ from the country code (Greece EL, Switzerland CHE)', () => {
    assert.deepEqual(normaliseVat('094259216', 'GR'), { value: 'EL094259216', valid: true });
    assert.deepEqual(normaliseVat('116.281.710', 'CH'), { value: 'CHE116281710', valid: true });
  });

  it('leaves a number without prefix unprefixed when the country is unknown, and flags it', () => {
    assert.deepEqual(normaliseVat('0417.497.106', null), { value: '0417497106', valid: false });
    assert.deepEqual(normaliseVat('0417.497.106', 'Belgium'), { value: '0417497106', valid: false });
  });

  it('keeps an invalid number, normalised, and flags it', () => {
    assert.deepEqual(normaliseVat('BE 0417.497.107', 'BE'), { value: 'BE0417497107', valid: false }, 'check digits');
    assert.deepEqual(normaliseVat('BE0123456789', 'BE'), { value: 'BE0123456789', valid: false });
    assert.deepEqual(normaliseVat('12', 'DE'), { value: 'DE12', valid: false }, 'too short');
    assert.deepEqual(normaliseVat('not known', 'BE'), { value: 'NOTKNOWN', valid: false });
  });

  it('is null, with no verdict, when there is no VAT number', () => {
    for (const raw of [undefined, null, '', '  ', ' - . ', 7])
      assert.deepEqual(normaliseVat(raw, 'BE'), { value: null, valid: null }, String(raw));
  });
});

describe('mapRobawsClient', () => {
  it("reads a local number in the client's address country, and in the default region only without one", () => {
    const dutch = mapRobawsClient({ ...example(), tel: '06 12345678', gsm: null, address: { country: 'NL' } }, 'BE');
    assert.deepEqual([dutch.fields.tel, dutch.invalidPhones], ['+31612345678', []]);
    const nowhere = mapRobawsClient({ ...example(), tel: '09 123 45 67', gsm: null, address: null }, 'BE');
    assert.equal(nowhere.fields.tel, '+3291234567');
  });

  it('maps the reference example to the row fields', () => {
    const record = example();
    const { fields, invalidPhones, invalidVat } = mapRobawsClient(record, 'BE');
    const { contentHash, ...rest } = fields;
    assert.deepEqual(rest, {
      robawsId: '3473',
      name: '222 CARS',
      role: 'LUXURY CAR DEALER',
      email: 'info@222cars.example',
      tel: '+3291234567',
      gsm: '+971501234567',
      phone: '+3291234567',
      website: null,
      addressLine1: 'Kerkstraat 1',
      addressLine2: null,
      postalCode: '9000',
      city: 'Gent',
      country: 'BE',
      vatNumber: 'BE0123456789',
      vatValid: false,
      currency: 'EUR',
      language: 'en',
      isActive: true,
      metadata: record,
      upstreamUpdatedAt: new Date('2024-10-01T14:20:00Z'),
    });
    assert.match(contentHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(invalidPhones, []);
    assert.equal(invalidVat, true, "the example's VAT number fails its check digits");
  });

  it('normalises a messy record and keeps what it cannot normalise', () => {
    const { fields, invalidPhones, invalidVat } = mapRobawsClient(
      {
        id: '9',
        name: '  Garage Janssens ',
        email: ' Info@Janssens.EXAMPLE ',
        tel: 'ask reception',
        gsm: '0470/12.34.56',
        website: ' ',
        vatNumber: '0417.497.106',
        currency: 'eur',
        isActive: false,
        address: { country: 'be', city: 'Antwerpen' },
        extraFields: { PRICING: { stringValue: 'B' } },
        updatedAt: 'not a date',
      },
      'BE',
    );
    assert.equal(fields.robawsId, '9');
    assert.equal(fields.name, 'Garage Janssens');
    assert.equal(fields.email, 'info@janssens.example');
    assert.equal(fields.tel, 'ask reception', 'kept as given');
    assert.equal(fields.gsm, '+32470123456');
    assert.equal(fields.phone, '+32470123456', 'the valid gsm, as the tel is invalid');
    assert.equal(fields.website, null);
    assert.equal(fields.country, 'BE');
    assert.equal(fields.vatNumber, 'BE0417497106');
    assert.equal(fields.vatValid, true);
    assert.equal(fields.currency, 'EUR');
    assert.equal(fields.language, null);
    assert.equal(fields.isActive, false);
    assert.equal(fields.role, null);
    assert.equal(fields.upstreamUpdatedAt, null);
    assert.deepEqual(invalidPhones, ['tel']);
    assert.equal(invalidVat, false);
  });

  it('takes the country from countryCode when the address has none, and leaves no phone when none is valid', () => {
    const { fields, invalidPhones, invalidVat } = mapRobawsClient(
      { id: 1, countryCode: 'nl', vatNumber: '810433941B01', tel: '12', gsm: null },
      'BE',
    );
    assert.equal(fields.country, 'NL');
    assert.equal(fields.vatNumber, 'NL810433941B01');
    assert.equal(fields.vatValid, true);
    assert.equal(fields.tel, '12');
    assert.equal(fields.phone, null);
    assert.deepEqual(invalidPhones, ['tel']);
    assert.equal(invalidVat, false);
  });

  it('does not flag a missing VAT number', () => {
    const { fields, invalidVat } = mapRobawsClient({ id: 2 }, 'BE');
    assert.equal(fields.vatNumber, null);
    assert.equal(fields.vatValid, null);
    assert.equal(invalidVat, false);
  });

  it('gives the same hash for the same record, and another when anything in it or the default region changes', () => {
    const record = example();
    const hash = mapRobawsClient(record, 'BE').fields.contentHash;
    assert.equal(mapRobawsClient(structuredClone(record), 'BE').fields.contentHash, hash);
    assert.notEqual(mapRobawsClient(record, 'NL').fields.contentHash, hash, 'phones may read differently');
    assert.notEqual(mapRobawsClient({ ...record, name: '222 CARS BV' }, 'BE').fields.contentHash, hash);
    assert.notEqual(
      mapRobawsClient({ ...record, updatedAt: '2024-10-02T08:00:00Z' }, 'BE').fields.contentHash,
      hash,
      'only the metadata and the timestamp changed',
    );
    assert.notEqual(
      mapRobawsClient({ ...record, extraFields: { Role: { stringValue: 'OEM' } } }, 'BE').fields.contentHash,
      hash,
    );
  });
});
