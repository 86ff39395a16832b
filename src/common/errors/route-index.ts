import { Injectable } from '@nestjs/common';

interface RouteEntry {
  regex: RegExp;
  methods: Set<string>;
}

/**
 * The registered routes, so an unknown method on a known path answers 405 rather than 404.
 * Filled once by configureApp after the app has initialised its routes.
 */
@Injectable()
export class RouteIndex {
  private entries: RouteEntry[] = [];

  add(path: string, method: string): void {
    const pattern = path
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const regex = new RegExp(`^${pattern}/?$`);
    let entry = this.entries.find((e) => e.regex.source === regex.source);
    if (!entry) this.entries.push((entry = { regex, methods: new Set() }));
    entry.methods.add(method.toUpperCase());
    if (method.toUpperCase() === 'GET') entry.methods.add('HEAD');
  }

  allowedMethods(path: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries) if (e.regex.test(path)) e.methods.forEach((m) => out.add(m));
    return [...out];
  }
}
