/**
 * Stands in for `@atlaskit/feature-gate-js-client/feature-gates` (a Statsig client, ~40 KB gzipped) in this app's
 * bundle. @atlaskit packages ask it for platform flags; in a Connect iframe it is never initialized, so the real
 * client answers every gate `false` and every experiment with its default, which is exactly what this does.
 */
const FeatureGates = {
  checkGate: (_name: string): boolean => false,
  getExperimentValue: <T,>(_experiment: string, _parameter: string, defaultValue: T): T => defaultValue,
  initializeCompleted: (): boolean => false,
};

export default FeatureGates;
