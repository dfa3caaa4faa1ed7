export { EffectivePricesQuery, type PriceAnswer } from './queries/price-lookup.js';
export { PRICE_CHANGED, type PriceChanged } from './events/price-changed.js';
