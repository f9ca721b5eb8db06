// Moved to verify/processes/ (the soak, a script, runs them too); tests keep importing them from here.
export * from '../../verify/processes/privateRedis.js';
