import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException } from '@nestjs/common';
import { AccountingDocument } from './accounting-document.entity';
import { badQueryField, decodeDocumentCursor, documentView, encodeDocumentCursor } from './document-views';

function row(over: Partial<AccountingDocument> = {}): AccountingDocument {
  return Object.assign(new AccountingDocument(), {
    id: 7,
    companyId: 3,
    source: 'devpos',
    eic: '0f8fad5b-d9cb-469f-a165-70867728950e',
    docType: 'purchase',
    qboEntity: 'Bill',
    qboId: null,
    syncToken: null,
    contentHash: 'h',
    status: 'failed',
    documentNumber: '12/2026',
    txnDate: '2026-02-03',
    currency: 'EUR',
    generation: 0,
    pendingRequest: 'req-1',
    errorCode: 'QBO_6140',
    errorMessage: 'Duplicate Document Number Error: You must specify a different number.',
    errorElement: 'DocNumber',
    intuitTid: null,
    attachmentStatus: null,
    attachmentId: null,
    attachmentWarning: null,
    syncedAt: null,
    createdAt: new Date('2026-02-03T10:00:00Z'),
    updatedAt: new Date('2026-02-03T10:00:01.250Z'),
    ...over,
  });
}

describe('the documents API views', () => {
  it('shows a refused document in snake_case with its last error, and nothing internal', () => {
    const view = documentView(row());
    assert.deepEqual(view, {
      company_id: 3,
      source: 'devpos',
      eic: '0f8fad5b-d9cb-469f-a165-70867728950e',
      document_number: '12/2026',
      type: 'purchase',
      txn_date: '2026-02-03',
      currency: 'EUR',
      status: 'failed',
      qbo_entity: 'Bill',
      qbo_id: null,
      sync_token: null,
      generation: 0,
      last_error: {
        code: 'QBO_6140',
        message: 'Duplicate Document Number Error: You must specify a different number.',
        element: 'DocNumber',
        intuit_tid: null,
      },
      attachment_status: null,
      attachment_id: null,
      attachment_warning: null,
      synced_at: null,
      updated_at: '2026-02-03T10:00:01.250Z',
    });
    assert.ok(!('pending_request' in view) && !('content_hash' in view));
  });

  it('a synced document without an error has last_error null and its synced_at', () => {
    const view = documentView(
      row({
        status: 'synced',
        qboId: '145',
        syncToken: '0',
        errorCode: null,
        errorMessage: null,
        errorElement: null,
        syncedAt: new Date('2026-02-04T08:00:00Z'),
      }),
    );
    assert.equal(view.last_error, null);
    assert.equal(view.synced_at, '2026-02-04T08:00:00.000Z');
    assert.equal(view.qbo_id, '145');
  });

  it('a cursor goes round; anything else is not a cursor', () => {
    const cursor = encodeDocumentCursor({ txnDate: '2026-02-03', id: 7 });
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeDocumentCursor(cursor), { txnDate: '2026-02-03', id: 7 });
    for (const bad of [
      'AAAA',
      Buffer.from('2026-02-03|0').toString('base64url'),
      Buffer.from('x|7').toString('base64url'),
      Buffer.from('2026-02-03|7|1').toString('base64url'),
    ])
      assert.equal(decodeDocumentCursor(bad), null, bad);
  });

  it('a bad query field is a 400 naming it, in the validation pipe’s shape', () => {
    const err = badQueryField('cursor', 'not a cursor this API gave out');
    assert.ok(err instanceof BadRequestException);
    assert.deepEqual(err.getResponse(), {
      statusCode: 400,
      error: 'Bad Request',
      message: ['cursor: not a cursor this API gave out'],
      fields: { cursor: ['not a cursor this API gave out'] },
    });
  });
});
