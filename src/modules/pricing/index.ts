export { EffectivePricesQuery, PriceMismatchesQuery, type PriceAnswer, type PriceMismatch, type PricedOrder } from './queries/price-lookup.js';
export { PRICE_CHANGED, type PriceChanged } from './events/price-changed.js';
