/**
 * English verb tables, written out as data: base, 3rd person singular, past simple, past
 * participle, -ing, and for the irregular verbs the over-regularized form a learner (or a
 * model that generalizes "-ed") produces. "be" has person-dependent present and past forms.
 */

export interface EnglishVerb {
  base: string;
  third: string;
  past: string;
  participle: string;
  ing: string;
  regular: boolean;
  /** The regular-rule past a learner would produce ("goed"); irregular verbs only. */
  overregular?: string;
  /** be: "am" (1s), "are" (2s and plurals), "were" (past, 2s and plurals). */
  present1s?: string;
  presentPlural?: string;
  pastPlural?: string;
}

const reg = (base: string, third: string, past: string, ing: string): EnglishVerb =>
  ({ base, third, past, participle: past, ing, regular: true });
const irr = (base: string, third: string, past: string, participle: string, ing: string, overregular: string,
  extra: Partial<EnglishVerb> = {}): EnglishVerb =>
  ({ base, third, past, participle, ing, regular: false, overregular, ...extra });

export const REGULAR_VERBS: readonly EnglishVerb[] = [
  reg('work', 'works', 'worked', 'working'),
  reg('play', 'plays', 'played', 'playing'),
  reg('walk', 'walks', 'walked', 'walking'),
  reg('talk', 'talks', 'talked', 'talking'),
  reg('listen', 'listens', 'listened', 'listening'),
  reg('watch', 'watches', 'watched', 'watching'),
  reg('study', 'studies', 'studied', 'studying'),
  reg('finish', 'finishes', 'finished', 'finishing'),
  reg('start', 'starts', 'started', 'starting'),
  reg('look', 'looks', 'looked', 'looking'),
  reg('want', 'wants', 'wanted', 'wanting'),
  reg('like', 'likes', 'liked', 'liking'),
];

export const IRREGULAR_VERBS: readonly EnglishVerb[] = [
  irr('be', 'is', 'was', 'been', 'being', 'beed', { present1s: 'am', presentPlural: 'are', pastPlural: 'were' }),
  irr('have', 'has', 'had', 'had', 'having', 'haved'),
  irr('do', 'does', 'did', 'done', 'doing', 'doed'),
  irr('go', 'goes', 'went', 'gone', 'going', 'goed'),
  irr('come', 'comes', 'came', 'come', 'coming', 'comed'),
  irr('see', 'sees', 'saw', 'seen', 'seeing', 'seed'),
  irr('eat', 'eats', 'ate', 'eaten', 'eating', 'eated'),
  irr('write', 'writes', 'wrote', 'written', 'writing', 'writed'),
];
