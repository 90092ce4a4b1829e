/**
 * Spanish verb tables, written out as data: for each verb the forms the corpus sentences need,
 * indicative present, preterite (pretérito indefinido), present perfect (haber + participle)
 * and future, for the persons the subjects use: 1s yo, 2s tú, 3s él/ella/noun,
 * 1p nosotros, 3p ellos/noun plural. (vosotros is not used.) Checked form by form against
 * Fred Jehle's conjugation database in verbs.test.ts.
 */

export type Person = '1s' | '2s' | '3s' | '1p' | '3p';
export const PERSONS: readonly Person[] = ['1s', '2s', '3s', '1p', '3p'];
export type SpanishTense = 'present' | 'preterite' | 'perfect' | 'future';

export interface SpanishVerb {
  infinitive: string;
  /** 1s 2s 3s 1p 3p, in PERSONS order. */
  present: readonly string[];
  preterite: readonly string[];
  participle: string;
  /** Future = stem + é, ás, á, emos, án (tener → tendr-, hacer → har-, venir → vendr-, querer → querr-). */
  futureStem: string;
}

const HABER_PRESENT = ['he', 'has', 'ha', 'hemos', 'han'] as const;
const FUTURE_ENDINGS = ['é', 'ás', 'á', 'emos', 'án'] as const;

const v = (infinitive: string, present: string, preterite: string, participle: string, futureStem = infinitive): SpanishVerb =>
  ({ infinitive, present: present.split(' '), preterite: preterite.split(' '), participle, futureStem });

export const SPANISH_VERBS: Readonly<Record<string, SpanishVerb>> = Object.fromEntries([
  // regular English verbs
  v('trabajar', 'trabajo trabajas trabaja trabajamos trabajan', 'trabajé trabajaste trabajó trabajamos trabajaron', 'trabajado'),
  v('jugar', 'juego juegas juega jugamos juegan', 'jugué jugaste jugó jugamos jugaron', 'jugado'),
  v('caminar', 'camino caminas camina caminamos caminan', 'caminé caminaste caminó caminamos caminaron', 'caminado'),
  v('hablar', 'hablo hablas habla hablamos hablan', 'hablé hablaste habló hablamos hablaron', 'hablado'),
  v('escuchar', 'escucho escuchas escucha escuchamos escuchan', 'escuché escuchaste escuchó escuchamos escucharon', 'escuchado'),
  v('mirar', 'miro miras mira miramos miran', 'miré miraste miró miramos miraron', 'mirado'),
  v('estudiar', 'estudio estudias estudia estudiamos estudian', 'estudié estudiaste estudió estudiamos estudiaron', 'estudiado'),
  v('terminar', 'termino terminas termina terminamos terminan', 'terminé terminaste terminó terminamos terminaron', 'terminado'),
  v('empezar', 'empiezo empiezas empieza empezamos empiezan', 'empecé empezaste empezó empezamos empezaron', 'empezado'),
  v('buscar', 'busco buscas busca buscamos buscan', 'busqué buscaste buscó buscamos buscaron', 'buscado'),
  v('querer', 'quiero quieres quiere queremos quieren', 'quise quisiste quiso quisimos quisieron', 'querido', 'querr'),
  v('gustar', 'gusto gustas gusta gustamos gustan', 'gusté gustaste gustó gustamos gustaron', 'gustado'),
  // irregular English verbs
  v('estar', 'estoy estás está estamos están', 'estuve estuviste estuvo estuvimos estuvieron', 'estado'),
  v('tener', 'tengo tienes tiene tenemos tienen', 'tuve tuviste tuvo tuvimos tuvieron', 'tenido', 'tendr'),
  v('hacer', 'hago haces hace hacemos hacen', 'hice hiciste hizo hicimos hicieron', 'hecho', 'har'),
  v('ir', 'voy vas va vamos van', 'fui fuiste fue fuimos fueron', 'ido'),
  v('venir', 'vengo vienes viene venimos vienen', 'vine viniste vino vinimos vinieron', 'venido', 'vendr'),
  v('ver', 'veo ves ve vemos ven', 'vi viste vio vimos vieron', 'visto'),
  v('comer', 'como comes come comemos comen', 'comí comiste comió comimos comieron', 'comido'),
  v('escribir', 'escribo escribes escribe escribimos escriben', 'escribí escribiste escribió escribimos escribieron', 'escrito'),
].map((verb) => [verb.infinitive, verb]));

/** The conjugated form of `verb` in `tense` for `person` ("ha ido", "fue", "tendrá"). */
export function conjugate(verb: SpanishVerb, tense: SpanishTense, person: Person): string {
  const i = PERSONS.indexOf(person);
  switch (tense) {
    case 'present': return verb.present[i]!;
    case 'preterite': return verb.preterite[i]!;
    case 'perfect': return `${HABER_PRESENT[i]} ${verb.participle}`;
    case 'future': return verb.futureStem + FUTURE_ENDINGS[i];
  }
}
