/** The library version written into every run's config.json. */
export const VERSION = '0.1.0';
