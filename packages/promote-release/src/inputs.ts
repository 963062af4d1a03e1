import { InputError, parsePhaseValue } from '@peridio-actions/core';
import {
  readApiInputs,
  readLines,
  readOptional,
  readPrn,
  type ApiInputs,
} from '../../action-common/src/inputs.js';

export interface PromoteReleaseInputs {
  api: ApiInputs;
  releasePrn: string;
  phaseValue?: number;
  phaseTags?: string[];
  enable: boolean;
}

export function readInputs(): PromoteReleaseInputs {
  const value = readOptional('phase-value');
  const disabled = readOptional('disabled');
  if (disabled !== undefined && disabled !== 'false') {
    throw new InputError('disabled', `only 'false' (enable the release) is a promotion; got '${disabled}'`);
  }
  return {
    api: readApiInputs(),
    releasePrn: readPrn('release-prn', 'release', { required: true }),
    phaseValue: value === undefined ? undefined : parsePhaseValue(value),
    phaseTags: readLines('phase-tags'),
    enable: disabled === 'false',
  };
}
