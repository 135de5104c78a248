/** Where the identity service is mounted on the api-server. */
export const IDENTITY_PREFIX = '/identity';
