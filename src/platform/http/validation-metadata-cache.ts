import { getMetadataStorage } from 'class-validator';
import { forgetPlainChecks } from './compiled-validation.js';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';

type LookUp = (target: unknown, schema: string | undefined, always: boolean, strictGroups: boolean, groups?: string[]) => ValidationMetadata[];
interface Storage {
  getTargetValidationMetadatas: LookUp;
  addValidationMetadata(metadata: ValidationMetadata): void;
}

const CACHED = Symbol('crossdock.validationMetadataCached');

/**
 * class-validator looks a class's constraints up anew for every object it validates, and to find the constraints a
 * class inherits it walks every class that has any (`MetadataStorage.getTargetValidationMetadatas`): with the
 * service's many DTOs that walk was the largest single cost of validating an order's body (an order's lines are
 * objects of their own). The answer changes only when a constraint is registered, which the decorators do as their
 * classes are loaded; so it is kept per class and question, and all of it forgotten whenever a constraint is
 * registered. The lists handed out are class-validator's own answers, read and never changed by its executor.
 */
export function cacheValidationMetadata(): void {
  const storage = getMetadataStorage() as unknown as Storage & { [CACHED]?: true };
  if (storage[CACHED]) return;
  const lookUp = storage.getTargetValidationMetadatas.bind(storage);
  const register = storage.addValidationMetadata.bind(storage);
  const answers = new Map<unknown, Map<string, ValidationMetadata[]>>();
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const question = `${schema ?? ''}\u0000${always}\u0000${strictGroups}\u0000${(groups ?? []).join('\u0001')}`;
    let byQuestion = answers.get(target);
    if (!byQuestion) answers.set(target, (byQuestion = new Map()));
    let answer = byQuestion.get(question);
    if (!answer) byQuestion.set(question, (answer = lookUp(target, schema, always, strictGroups, groups)));
    return answer;
  };
  storage.addValidationMetadata = (metadata) => {
    answers.clear();
    forgetPlainChecks();
    register(metadata);
  };
  storage[CACHED] = true;
}
