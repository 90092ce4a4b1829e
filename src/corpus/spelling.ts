/**
 * English regular inflection rules. The verb tables in verbs-en.ts spell every form out as
 * data; these rules are their check (verbs.test.ts) and make the wrong forms the probes need
 * ("goed", "worken").
 */

const VOWELS = 'aeiou';
const isVowel = (c: string | undefined): boolean => c !== undefined && VOWELS.includes(c);

/**
 * Consonant–vowel–consonant at the end of a one-syllable word, last letter not w/x/y:
 * stop → stopp-, plan → plann-; work, look, want do not double. (Stress in longer words —
 * "prefer" → "preferred" but "visit" → "visited" — is not modelled: only monosyllables double.)
 */
export function doublesFinalConsonant(base: string): boolean {
  const n = base.length;
  if (n < 3) return false;
  const [c1, v, c2] = [base[n - 3], base[n - 2], base[n - 1]];
  if (isVowel(c1) || !isVowel(v) || isVowel(c2) || 'wxy'.includes(c2!)) return false;
  const vowelGroups = base.match(/[aeiouy]+/g)?.length ?? 0;
  return vowelGroups === 1;
}

/** Regular past simple / past participle: work → worked, study → studied, like → liked, stop → stopped, play → played. */
export function regularPast(base: string): string {
  if (base.endsWith('e')) return base + 'd';
  if (/[^aeiou]y$/.test(base)) return base.slice(0, -1) + 'ied';
  if (doublesFinalConsonant(base)) return base + base[base.length - 1] + 'ed';
  return base + 'ed';
}

/** Third person singular present: works, watches, finishes, studies, goes, plays. */
export function thirdPerson(base: string): string {
  if (/(s|x|z|ch|sh|o)$/.test(base)) return base + 'es';
  if (/[^aeiou]y$/.test(base)) return base.slice(0, -1) + 'ies';
  return base + 's';
}

/** -ing form: working, studying, liking, stopping, seeing, being. */
export function ingForm(base: string): string {
  if (base.endsWith('ie')) return base.slice(0, -2) + 'ying';
  if (base.endsWith('e') && !base.endsWith('ee') && base !== 'be') return base.slice(0, -1) + 'ing';
  if (doublesFinalConsonant(base)) return base + base[base.length - 1] + 'ing';
  return base + 'ing';
}

/** An irregular-looking "-en" participle that no regular verb has: work → worken, like → liken. */
export function enLure(base: string): string {
  return base.endsWith('e') ? base + 'n' : base + 'en';
}
