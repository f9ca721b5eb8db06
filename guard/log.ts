// The guard logs through the process logger (pipeline/log: pino, JSON lines on stderr, level from KES_LOG_LEVEL).
export { createLogger, type KesLogger, type Logger } from '../pipeline/log/logger.js';
