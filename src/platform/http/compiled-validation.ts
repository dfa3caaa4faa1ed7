import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationArguments } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';
import type { ConstraintMetadata } from 'class-validator/types/metadata/ConstraintMetadata.js';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';

/** Whether a plain value (a parsed JSON body) passes every rule of a class, without saying why not. */
export type PlainCheck = (plain: unknown) => boolean;

interface ConstraintStep {
  metadata: ValidationMetadata;
  constraints: ConstraintMetadata[];
}

interface PropertyPlan {
  name: string;
  conditions: ValidationMetadata[];
  /** `@IsDefined` and every other constraint: for a verdict alone, their order does not matter. */
  constraints: ConstraintStep[];
  /** The class a nested object (or each element of a nested array) is checked against. */
  nested?: ClassPlan;
}

interface ClassPlan {
  target: Function;
  known: Set<string>;
  properties: PropertyPlan[];
}

const VALIDATOR_STORAGE = getMetadataStorage() as unknown as {
  getTargetValidationMetadatas(target: Function, schema: string, always: boolean, strictGroups: boolean): ValidationMetadata[];
  getTargetValidatorConstraints(target: Function): ConstraintMetadata[];
};
const plans = new Map<Function, PlainCheck | null>();

/**
 * A class's class-validator rules made into a plan once, then run on the parsed body itself: each constraint's own
 * validate function, in the order and under the conditions class-validator's executor applies them (unknown fields
 * refused, `@IsOptional`, `each`, nested classes named by `@Type`). It answers only "valid": a body it refuses is
 * validated again the usual way, which says why, so the messages have one source. Skipping the transformation into
 * instances and the executor's error objects takes a valid order's body from 84-115 us to 13-16 (BENCHMARKS.md).
 *
 * A class the plan cannot follow exactly has no check (undefined), and is always validated the usual way: a
 * constraint that may answer asynchronously, groups, a nested object without a `@Type` naming its class, a field
 * the class gives a value of its own, or any class-transformer rule that would make the transformed value differ
 * from the plain one (`@Transform`, `@Expose`, `@Exclude`, `@Type` of something other than a validated class).
 */
export function plainCheckOf(target: Function): PlainCheck | undefined {
  let check = plans.get(target);
  if (check === undefined) {
    const plan = planOf(target, new Map());
    check = plan ? (plain) => passes(plain, plan) : null;
    plans.set(target, check);
  }
  return check ?? undefined;
}

/** Forgets every plan (a class registering constraints after its first use). */
export function forgetPlainChecks(): void {
  plans.clear();
}

function planOf(target: Function, seen: Map<Function, ClassPlan>): ClassPlan | undefined {
  const known = seen.get(target);
  if (known) return known;
  const metadatas = VALIDATOR_STORAGE.getTargetValidationMetadatas(target, '', false, false);
  if (metadatas.length === 0) return undefined;
  if (!transformsToItself(target)) return undefined;
  const plan: ClassPlan = { target, known: new Set(), properties: [] };
  seen.set(target, plan);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    if (metadata.groups?.length || metadata.always) return undefined;
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  for (const [name, list] of byProperty) {
    plan.known.add(name);
    const property: PropertyPlan = { name, conditions: [], constraints: [] };
    for (const metadata of list) {
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          property.conditions.push(metadata);
          break;
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION: {
          const constraints = VALIDATOR_STORAGE.getTargetValidatorConstraints(metadata.constraintCls);
          if (constraints.length === 0 || constraints.some((c) => c.async)) return undefined;
          property.constraints.push({ metadata, constraints });
          break;
        }
        case ValidationTypes.NESTED_VALIDATION: {
          const type = defaultMetadataStorage.findTypeMetadata(target, name);
          const nestedClass = type?.typeFunction() as Function | undefined;
          if (!nestedClass || type?.options?.discriminator) return undefined;
          const nested = planOf(nestedClass, seen);
          if (!nested) return undefined;
          property.nested = nested;
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          // PROMISE_VALIDATION and anything newer: the usual way only.
          return undefined;
      }
    }
    plan.properties.push(property);
  }
  return plan;
}

/**
 * No class-transformer rule on the class but `@Type` of a nested class, and no field given a value by the class
 * itself: the transformed value then holds what the plain one does. class-transformer lists its transform and type
 * rules only by property, so its maps are read directly; should they change shape, no class has a plan.
 */
function transformsToItself(target: Function): boolean {
  if (defaultMetadataStorage.getExposedMetadatas(target).length > 0 || defaultMetadataStorage.getExcludedMetadatas(target).length > 0) return false;
  const storage = defaultMetadataStorage as unknown as { _transformMetadatas?: unknown; _typeMetadatas?: unknown };
  const { _transformMetadatas: transforms, _typeMetadatas: types } = storage;
  if (!(transforms instanceof Map) || !(types instanceof Map)) return false;
  const ownedBy = (owner: Function) => owner === target || target.prototype instanceof owner;
  for (const [owner, byProperty] of transforms as Map<Function, Map<string, unknown[]>>) {
    if (ownedBy(owner) && [...byProperty.values()].some((list) => list.length > 0)) return false;
  }
  for (const [owner, byProperty] of types as Map<Function, Map<string, { typeFunction: () => unknown }>>) {
    if (!ownedBy(owner)) continue;
    for (const type of byProperty.values()) {
      const typeClass = type.typeFunction() as Function | undefined;
      if (!typeClass || PRIMITIVE_TYPES.has(typeClass)) return false;
    }
  }
  try {
    return Object.values(new (target as new () => object)()).every((field) => field === undefined);
  } catch {
    return false;
  }
}

const PRIMITIVE_TYPES = new Set<Function>([String, Number, Boolean, Date, Object, Array, Map, Set, BigInt, Symbol]);

function passes(value: unknown, plan: ClassPlan): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) if (!plan.known.has(key)) return false;
  for (const property of plan.properties) {
    const field = object[property.name];
    if (!property.conditions.every((c) => (c.constraints[0] as (o: object, v: unknown) => boolean)(object, field))) continue;
    if (!constraintsHold(object, field, property.constraints, plan.target)) return false;
    if (property.nested && field !== undefined && !nestedHolds(field, property.nested)) return false;
  }
  return true;
}

function nestedHolds(value: unknown, plan: ClassPlan): boolean {
  if (Array.isArray(value)) return value.every((element) => nestedHolds(element, plan));
  // class-transformer makes each plain object an instance of the nested class, which is what is validated.
  return passes(value, plan);
}

function constraintsHold(object: Record<string, unknown>, value: unknown, steps: ConstraintStep[], target: Function): boolean {
  for (const { metadata, constraints } of steps) {
    if (metadata.validateIf && !metadata.validateIf(object, value)) continue;
    const args: ValidationArguments = { targetName: target.name, property: metadata.propertyName, object, value, constraints: metadata.constraints };
    const values = metadata.each && (Array.isArray(value) || value instanceof Set || value instanceof Map) ? [...(value instanceof Map ? value.values() : value)] : [value];
    for (const constraint of constraints) {
      for (const v of values) {
        const verdict = constraint.instance.validate(v, args) as unknown;
        if (verdict !== true) return false;
      }
    }
  }
  return true;
}
