import type { Catalog } from '../catalog.js';
import { isApprover } from '../policy/approvers.js';
import { describeRequest } from './describe-request.js';
import type { RequestLine } from './render-confirmation-notice.js';
import type { Confirmation } from '../store-data.js';

/** A stored request as people are shown it in lists: headline with flags, requester, and whether they may confirm it. */
export function requestLineOf(c: Confirmation, catalog: Catalog): RequestLine {
  const target = catalog.target(c.app, c.env);
  return {
    headline: describeRequest(c),
    requestedBy: c.requestedBy,
    requesterMayConfirm: target ? isApprover(target, { source: 'slack', user: c.requestedBy }) : false,
  };
}
