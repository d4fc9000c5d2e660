/** Sluice's version, shown by --version, the banner and the upstream User-Agent. */
export const sluiceVersion = '0.1.0';
