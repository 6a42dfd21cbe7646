/**
 * Store module.
 */
import { readFile } from "fs/promises";

export interface Item {
  id: number;
  name?: string; // optional
}

export type ItemMap = Record<string, Item>;

const COMMENT_START = "/*";

export class Store {
  private items: ItemMap = {};

  constructor(private readonly root: string) {}

  async load(file: string): Promise<number> {
    const text = await readFile(`${this.root}/${file}`, "utf8");
    for (const line of text.split("\n")) {
      if (line.startsWith(COMMENT_START)) {
        continue;
      }
      const [id, name] = line.split(",");
      this.items[id] = { id: Number(id), name };
    }
    return Object.keys(this.items).length;
  }

  /* Still a comment, even with a "string" inside. */
  find = (id: string): Item | undefined => this.items[id] ?? undefined;
}

const END = "*/";
export const markers = [COMMENT_START, END];
