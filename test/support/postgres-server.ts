// The throwaway PostgreSQL server lives beside the emulators, so the bench can start one too.
export * from '../../emulators/world/postgres-server.js';
