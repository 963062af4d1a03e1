import { InputError, parsePhaseValue, readAllInputs } from '@peridio-actions/core';
import {
  API_READERS,
  readLines,
  readOptional,
  readPrn,
  withApi,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';

export interface PromoteReleaseInputs {
  api: ApiInputs;
  releasePrn: string;
  phaseValue?: number;
  phaseTags?: string[];
  enable: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): PromoteReleaseInputs {
  const read = readAllInputs({
    ...API_READERS,
    releasePrn: () => readPrn('release-prn', 'release', { required: true }),
    phaseValue: () => {
      const value = readOptional('phase-value');
      return value === undefined ? undefined : parsePhaseValue(value);
    },
    phaseTags: () => readLines('phase-tags'),
    enable: () => {
      const disabled = readOptional('disabled');
      if (disabled !== undefined && disabled !== 'false') {
        throw new InputError(
          'disabled',
          `only 'false' (enable the release) is a promotion; got '${disabled}'`,
        );
      }
      return disabled === 'false';
    },
  });
  return withApi(read);
}
