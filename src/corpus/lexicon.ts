/**
 * The corpus lexicon, as data: subjects (with Spanish gender and number), verbs paired with
 * their Spanish verb and complements, and time adverbials per tense.
 */
import { IRREGULAR_VERBS, REGULAR_VERBS, type EnglishVerb } from './verbs-en.ts';
import { SPANISH_VERBS, type Person, type SpanishVerb } from './verbs-es.ts';

export type Tense = 'present' | 'past' | 'perfect' | 'future';
export const TENSES: readonly Tense[] = ['present', 'past', 'perfect', 'future'];

export interface Subject {
  /** As written mid-sentence ("my brother", "Maria", "I"); capitalized at the start. */
  en: string;
  es: string;
  person: Person;
  gender: 'm' | 'f';
  /** Pronoun subjects 1s/2s/1p take only a clitic with gustar ("Me gusta…"). */
  pronoun: boolean;
}

export interface Complement {
  en: string;
  es: string;
  /** gustar agrees with the thing liked: "le gusta la música" / "le gustan los libros". */
  number?: 's' | 'p';
  /** estar + adjective, agreeing with the subject: masc. sg, fem. sg, masc. pl, fem. pl. */
  esAgree?: readonly [string, string, string, string];
}

export interface VerbEntry {
  en: EnglishVerb;
  es: SpanishVerb;
  complements: readonly Complement[];
  /** gustar: the English subject becomes a Spanish dative ("A mi hermano le gusta…"). */
  dative?: boolean;
}

export interface Adverbial { en: string; es: string }

const s = (en: string, es: string, person: Person, gender: 'm' | 'f', pronoun = false): Subject => ({ en, es, person, gender, pronoun });

export const SUBJECTS: readonly Subject[] = [
  s('I', 'yo', '1s', 'm', true),
  s('you', 'tú', '2s', 'm', true),
  s('he', 'él', '3s', 'm', true),
  s('she', 'ella', '3s', 'f', true),
  s('we', 'nosotros', '1p', 'm', true),
  s('they', 'ellos', '3p', 'm', true),
  s('my brother', 'mi hermano', '3s', 'm'),
  s('my sister', 'mi hermana', '3s', 'f'),
  s('the teacher', 'la profesora', '3s', 'f'),
  s('the doctor', 'el médico', '3s', 'm'),
  s('Maria', 'María', '3s', 'f'),
  s('Tom', 'Tom', '3s', 'm'),
  s('the children', 'los niños', '3p', 'm'),
  s('my friends', 'mis amigos', '3p', 'm'),
  s('the girls', 'las chicas', '3p', 'f'),
  s('my parents', 'mis padres', '3p', 'm'),
];

const c = (en: string, es: string): Complement => ({ en, es });
const liked = (en: string, es: string, number: 's' | 'p'): Complement => ({ en, es, number });
const adj = (en: string, forms: string): Complement => {
  const [ms, fs, mp, fp] = forms.split(' ') as [string, string, string, string];
  return { en, es: ms, esAgree: [ms, fs, mp, fp] };
};

function verb(base: string, infinitive: string, complements: Complement[], dative = false): VerbEntry {
  const en = [...REGULAR_VERBS, ...IRREGULAR_VERBS].find((x) => x.base === base);
  const es = SPANISH_VERBS[infinitive];
  if (!en || !es) throw new Error(`lexicon: unknown verb ${base}/${infinitive}`);
  return dative ? { en, es, complements, dative } : { en, es, complements };
}

export const VERBS: readonly VerbEntry[] = [
  verb('work', 'trabajar', [c('at home', 'en casa'), c('in the garden', 'en el jardín'), c('at the hospital', 'en el hospital'), c('late', 'hasta tarde'), c('with my father', 'con mi padre')]),
  verb('play', 'jugar', [c('football', 'al fútbol'), c('tennis', 'al tenis'), c('chess', 'al ajedrez'), c('cards', 'a las cartas'), c('in the park', 'en el parque')]),
  verb('walk', 'caminar', [c('to the station', 'a la estación'), c('in the park', 'por el parque'), c('to work', 'al trabajo'), c('along the river', 'junto al río'), c('home', 'a casa')]),
  verb('talk', 'hablar', [c('to the neighbor', 'con el vecino'), c('about the weather', 'del tiempo'), c('on the phone', 'por teléfono'), c('with the students', 'con los estudiantes'), c('about the trip', 'del viaje')]),
  verb('listen', 'escuchar', [c('to music', 'música'), c('to the radio', 'la radio'), c('to the news', 'las noticias'), c('to the song', 'la canción'), c('to the story', 'el cuento')]),
  verb('watch', 'mirar', [c('TV', 'la televisión'), c('the game', 'el partido'), c('the birds', 'los pájaros'), c('a film', 'una película'), c('the sunset', 'la puesta de sol')]),
  verb('study', 'estudiar', [c('math', 'matemáticas'), c('English', 'inglés'), c('for the exam', 'para el examen'), c('history', 'historia'), c('at the library', 'en la biblioteca')]),
  verb('finish', 'terminar', [c('the book', 'el libro'), c('the project', 'el proyecto'), c('the homework', 'la tarea'), c('the race', 'la carrera'), c('the puzzle', 'el rompecabezas')]),
  verb('start', 'empezar', [c('the class', 'la clase'), c('a new job', 'un trabajo nuevo'), c('the lesson', 'la lección'), c('the meeting', 'la reunión'), c('the course', 'el curso')]),
  verb('look', 'buscar', [c('for the keys', 'las llaves'), c('for a job', 'trabajo'), c('for the cat', 'al gato'), c('for a new house', 'una casa nueva'), c('for the book', 'el libro')]),
  verb('want', 'querer', [c('a coffee', 'un café'), c('a new bike', 'una bicicleta nueva'), c('some water', 'agua'), c('a holiday', 'unas vacaciones'), c('a pizza', 'una pizza')]),
  verb('like', 'gustar', [liked('the movie', 'la película', 's'), liked('the music', 'la música', 's'), liked('the books', 'los libros', 'p'), liked('the flowers', 'las flores', 'p'), liked('the food', 'la comida', 's')], true),
  verb('be', 'estar', [c('at home', 'en casa'), c('at school', 'en la escuela'), c('in the park', 'en el parque'), adj('tired', 'cansado cansada cansados cansadas'), adj('busy', 'ocupado ocupada ocupados ocupadas'), adj('happy', 'contento contenta contentos contentas')]),
  verb('have', 'tener', [c('a dog', 'un perro'), c('a cold', 'un resfriado'), c('a meeting', 'una reunión'), c('a problem', 'un problema'), c('a new car', 'un coche nuevo')]),
  verb('do', 'hacer', [c('the homework', 'la tarea'), c('the shopping', 'la compra'), c('yoga', 'yoga'), c('the exercises', 'los ejercicios'), c('a project', 'un proyecto')]),
  verb('go', 'ir', [c('to the store', 'a la tienda'), c('to school', 'a la escuela'), c('to the park', 'al parque'), c('home', 'a casa'), c('to the beach', 'a la playa')]),
  verb('come', 'venir', [c('to the party', 'a la fiesta'), c('home', 'a casa'), c('to class', 'a clase'), c('to the meeting', 'a la reunión'), c('to the office', 'a la oficina')]),
  verb('see', 'ver', [c('the movie', 'la película'), c('a bird', 'un pájaro'), c('a friend', 'a un amigo'), c('the mountains', 'las montañas'), c('the sea', 'el mar')]),
  verb('eat', 'comer', [c('an apple', 'una manzana'), c('the soup', 'la sopa'), c('rice', 'arroz'), c('some bread', 'pan'), c('fish', 'pescado')]),
  verb('write', 'escribir', [c('a letter', 'una carta'), c('an email', 'un correo'), c('a poem', 'un poema'), c('the report', 'el informe'), c('a story', 'un cuento')]),
];

const a = (en: string, es: string): Adverbial => ({ en, es });

export const ADVERBIALS: Readonly<Record<Tense, readonly Adverbial[]>> = {
  present: [a('every day', 'todos los días'), a('on Mondays', 'los lunes'), a('every week', 'todas las semanas'), a('in the morning', 'por la mañana'), a('on weekends', 'los fines de semana')],
  past: [a('yesterday', 'ayer'), a('last week', 'la semana pasada'), a('last night', 'anoche'), a('two days ago', 'hace dos días'), a('last year', 'el año pasado')],
  perfect: [a('today', 'hoy'), a('this week', 'esta semana'), a('this morning', 'esta mañana'), a('this year', 'este año'), a('this month', 'este mes')],
  future: [a('tomorrow', 'mañana'), a('next week', 'la próxima semana'), a('tonight', 'esta noche'), a('next year', 'el próximo año'), a('on Friday', 'el viernes')],
};

export const isIrregular = (v: VerbEntry): boolean => !v.en.regular;
