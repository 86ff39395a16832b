/** Dioptra's slugify (reference §4.1): lower-case, trim, every space → '-'. Nothing else changes. */
export function slugify(text: string): string {
  return text.toLowerCase().trim().replace(/ /g, '-');
}

export const MAX_NAME_LENGTH = 255;

/** Slugified name when it is 1–255 characters (API.md §1), else null. */
export function slugifyName(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const slug = slugify(text);
  if (slug.length === 0 || slug.length > MAX_NAME_LENGTH || slug.includes('/')) return null;
  return slug;
}
