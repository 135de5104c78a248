import { GROUP } from '../crds/convention.js';

/**
 * The operator's finalizer, on its own objects and on the credentials Secrets they use; it
 * never adds or removes any other.
 */
export const FINALIZER = `${GROUP}/operator`;
