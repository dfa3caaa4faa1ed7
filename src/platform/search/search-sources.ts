import { Injectable } from '@nestjs/common';

/** One transaction or thing a search found, and where to see it. */
export interface SearchHit {
  kind: 'order' | 'shipment' | 'sku' | 'customer' | 'correlation';
  id: string;
  /** What matched: `orderId`, `channelOrderId`, `reference`, `erpOrderRef`, `shipmentId`, `sku`, `accountNumber`, `correlationId`. */
  matched: string;
  summary: Record<string, unknown>;
  correlationId?: string | null;
  /** The API paths that tell the rest (the transaction's timeline first). */
  links: string[];
}

/** A domain's part of the search: what of its own the text names (exactly, by an indexed key). */
export type SearchSource = (text: string) => Promise<SearchHit[]>;

/** `GET /v1/ops/search`'s sources, registered by each domain at start: one box for every kind of id. */
@Injectable()
export class SearchSources {
  private readonly sources: SearchSource[] = [];

  register(source: SearchSource): void {
    this.sources.push(source);
  }

  async search(text: string): Promise<SearchHit[]> {
    return (await Promise.all(this.sources.map((source) => source(text)))).flat();
  }
}
