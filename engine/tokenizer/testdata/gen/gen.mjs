// gen.mjs writes the tokenizer.json fixtures and golden token ids that the Go
// package engine/tokenizer is tested against. The reference implementation is
// Hugging Face's own `tokenizers` (Rust, through its Node binding, version
// pinned in package.json).
//
//	cp engine/tokenizer/testdata/gen/{gen.mjs,package.json,package-lock.json,corpus.txt} /tmp/tokgen/
//	cd /tmp/tokgen && npm ci && node gen.mjs /path/to/engine/tokenizer/testdata
//
// The Go tests read another set with TOKENIZER_GOLDEN_DIR=dir (for instance
// GEN_RANDOM=20000 node gen.mjs /tmp/big for a large local run).
//
// node_modules is never committed. Without an argument the outputs go to ../
// (testdata/ when run in place).
//
// The Node binding exposes no BPE trainer options, so the merges are learnt
// here by a small, deterministic byte-level BPE trainer (most frequent pair
// first, ties broken by the pair's text), on words produced by Hugging Face's
// own normaliser and pre-tokenizer. Hugging Face then loads every fixture,
// re-saves the canonical ones, and computes every golden id.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import tk from 'tokenizers';

const { Tokenizer } = tk;
const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, '..');
const pkg = createRequire(import.meta.url)('tokenizers/package.json');

// ---------------------------------------------------------------- byte level
// GPT-2's byte -> unicode table: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100 upwards, in byte order.
const byteToChar = new Array(256);
{
  const keep = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) byteToChar[b] = String.fromCodePoint(keep(b) ? b : 256 + n++);
}
{
  const alpha = new Set(tk.byteLevelAlphabet());
  if (alpha.size !== 256 || !byteToChar.every((c) => alpha.has(c))) throw new Error('byte-level alphabet mismatch');
}

// ---------------------------------------------------------------- configs
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const byteLevel = (prefix, trim, regex) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: trim, use_regex: regex });
const qwen2Pre = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: QWEN2_REGEX }, behavior: 'Isolated', invert: false },
    byteLevel(false, false, false),
  ],
};
const gpt2Pre = byteLevel(true, true, true);

const special = (content) => ({ content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const CHATML = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map(special);
const RLT_TAGS = [
  '<|begin_of_thought|>', '<|end_of_thought|>', '<|begin_of_solution|>', '<|end_of_solution|>',
  '<|begin_of_explanation|>', '<|end_of_explanation|>',
].map(special);

function skeleton({ normalizer, pre, vocab, merges, added, ignoreMerges }) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer,
    pre_tokenizer: pre,
    post_processor: byteLevel(false, false, false),
    decoder: byteLevel(false, false, false),
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: ignoreMerges, vocab, merges,
    },
  };
}

// ---------------------------------------------------------------- training
function alphabetVocab() {
  const vocab = {};
  byteToChar.forEach((c, b) => { vocab[c] = b; });
  return vocab;
}

// words runs Hugging Face's normaliser and pre-tokenizer over the corpus.
function words(normalizer, pre, corpus) {
  const tok = Tokenizer.fromString(JSON.stringify(skeleton({
    normalizer, pre, vocab: alphabetVocab(), merges: [], added: [], ignoreMerges: false,
  })));
  const counts = new Map();
  for (const line of corpus.split(/(?<=\n)/)) {
    const norm = normalizer ? tok.getNormalizer().normalizeString(line) : line;
    for (const [w] of tok.getPreTokenizer().preTokenizeString(norm)) counts.set(w, (counts.get(w) || 0) + 1);
  }
  return counts;
}

function train(counts, vocabSize) {
  const vocab = alphabetVocab();
  let next = 256;
  const ws = [...counts.entries()].map(([w, c]) => ({ syms: [...w], c }));
  const merges = [];
  while (next < vocabSize) {
    const pairs = new Map();
    for (const w of ws) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = w.syms[i] + ' ' + w.syms[i + 1];
        pairs.set(k, (pairs.get(k) || 0) + w.c);
      }
    }
    let best = null;
    let bestC = 0;
    for (const [k, c] of pairs) if (c > bestC || (c === bestC && best !== null && k < best)) { best = k; bestC = c; }
    if (best === null) break;
    const [a, b] = best.split(' ');
    const ab = a + b;
    merges.push([a, b]);
    if (!(ab in vocab)) vocab[ab] = next++;
    for (const w of ws) {
      const s = w.syms;
      const o = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { o.push(ab); i++; } else o.push(s[i]);
      }
      w.syms = o;
    }
  }
  return { vocab, merges, next };
}

function withAdded(vocabNext, list) {
  return list.map((t, i) => ({ id: vocabNext + i, ...t }));
}

// ---------------------------------------------------------------- fixtures
const corpus = readFileSync(join(here, 'corpus.txt'), 'utf8');
const NFC = { type: 'NFC' };

const fixtures = {};

// qwen2_pairs: Qwen2 pre-tokenizer, NFC, merges saved by HF (pairs), ChatML + RLT tags as
// special added tokens, plus a normalised non-special added token written in NFD.
{
  const { vocab, merges, next } = train(words(NFC, qwen2Pre, corpus), 1200);
  const added = withAdded(next, [
    ...CHATML, ...RLT_TAGS,
    { content: 'Cafe\u0301!', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
  ]);
  fixtures.qwen2_pairs = skeleton({ normalizer: NFC, pre: qwen2Pre, vocab, merges, added, ignoreMerges: false });
}

// qwen2_strings: the same model with merges as "a b" strings; the RLT tags are plain text,
// as in the real Qwen2 vocabulary.
{
  const { vocab, merges, next } = train(words(NFC, qwen2Pre, corpus), 1200);
  fixtures.qwen2_strings = skeleton({
    normalizer: NFC, pre: qwen2Pre, vocab, merges: merges.map(([a, b]) => `${a} ${b}`),
    added: withAdded(next, CHATML), ignoreMerges: false,
  });
}

// gpt2: GPT-2's ByteLevel pre-tokenizer (own regex, add_prefix_space), no normaliser,
// ignore_merges with a few whole words that no merge sequence reaches, and added tokens
// exercising lstrip / rstrip / single_word / normalized.
{
  const { vocab, merges, next } = train(words(null, gpt2Pre, corpus), 1200);
  let n = next;
  for (const w of ['Ġsupercalifragilistic', 'Ġexplanation', 'ĠEXPLANATION', 'ĠÐ½Ð°Ð³ÑĢÐ°Ð´Ð°']) if (!(w in vocab)) vocab[w] = n++;
  const added = withAdded(n, [
    special('<|endoftext|>'),
    { content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
    { content: '[R]', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
    { content: '<both>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
    { content: 'cat', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
    { content: 'dogma', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
    { content: 'dog', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
  ]);
  fixtures.gpt2 = skeleton({ normalizer: null, pre: gpt2Pre, vocab, merges, added, ignoreMerges: true });
}

// Save: the pair fixtures through Hugging Face itself (its canonical serialisation),
// the string-merges fixture as written above; every file is reloaded by HF below.
const loaded = {};
for (const [name, obj] of Object.entries(fixtures)) {
  const path = join(out, `${name}.json`);
  if (name === 'qwen2_strings') {
    writeFileSync(path, JSON.stringify(obj) + '\n');
  } else {
    Tokenizer.fromString(JSON.stringify(obj)).save(path, false);
  }
  loaded[name] = Tokenizer.fromFile(path);
}

// ---------------------------------------------------------------- texts
const texts = [
  '', ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', '\n\n\n', ' \n', '\n ', ' \n ', '  \n  ', '\t\n\t', '\r', '\r\r\n',
  'hello', ' hello', '  hello', 'hello ', 'hello  ', 'hello world', 'hello  world', 'hello   world', 'hello\tworld',
  'hello\nworld', 'hello\r\nworld', 'hello \nworld', 'hello\n\nworld', 'hello \n \n world', 'a  \n\n  b',
  'trailing spaces   ', '   leading spaces', '\t\ttabs\t\tand  spaces \t mixed', 'line1\r\nline2\r\n\r\nline4\r\n',
  'end with newline\n', 'end with newlines\n\n\n', 'space before newline \nnext', 'x\u00a0y', 'x\u00a0\u00a0y', 'nbsp\u00a0 mixed \u00a0',
  'ideographic\u3000space', 'line\u2028separator', 'para\u2029sep', 'nel\u0085char', 'vt\u000bff\u000cend', 'ogham\u1680space',
  'em\u2003space\u2009thin\u202fnarrow\u205fmath', 'mongolian\u180evowel', 'zero\u200bwidth\u200cnon\u200djoiner', 'file\u001cseparators\u001f',
  "don't", "DON'T", "it's", "IT'S", "we'll", "WE'LL", "We'Ll", "they're", "THEY'RE", "I've", "I'VE", "I'm", "I'M", "he'd", "HE'D",
  "can't won't shan't", "'s 's 'S", "'ll've'd", "rock 'n' roll", "the '90s", "'", "''", "'''", "x'", "'x", "' s", "'\u017f", "it'\u017f",
  "'sa", "'Sa", "'tis", "’s curly", "Jones’s", "l'été", "aujourd'hui", "''s", "'\n's",
  '0', '1', '12', '123', '1234', '12345', '1234567890', '3.14159', '1,000,000', '1,234.56', '-42', '+7', '1e-6', '0xFF',
  'v1.2.3', '2025-06-10', '$19.99', '100%', 'x1y2z3', 'abc123def', '１２３', '٠١٢٣٤', '०१२३', '²³', '½¼', 'Ⅻ', '①②③', '𝟙𝟚',
  'Café', 'Cafe\u0301', 'cafe\u0301 au lait', 'e\u0301\u0301', 'n\u0303', 'A\u030a', 'Å', '\u1100\u1161\u11a8', '각',
  '\u0301 leading combining', 'x\u0323\u0307', 'ṩ', 's\u0323\u0307', 'Cafe\u0301!', 'Café!', 'Cafe\u0301!!', 'aCafé!',
  '老师得到问题和答案', '学生阅读解释，并根据参考答案的概率获得奖励。', '日本語のテキストとカタカナ', '한국어 문장입니다',
  'مرحبا بالعالم', 'العربية لغة جميلة.', 'नमस्ते दुनिया', 'हिन्दी भाषा।', 'क्षत्रिय', 'שלום עולם', 'สวัสดีครับ',
  'Привет, мир!', 'Γειά σου Κόσμε', 'Ἀθῆναι', 'ǅemal', 'ﬁne ﬂow', 'Straße', 'İstanbul ıi', 'ÆØÅ æøå',
  'mixed English 和 中文 and العربية and हिन्दी', 'abcабв', 'x日本y', '123abc中文456',
  '😀', '😀😃😄', ' 😀', 'smile 😀 done', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '❤️', '❤', '✅❌', '🇯🇵🇺🇸', 'a👍b', '👩🏾‍💻 codes',
  '∀x ∈ ℝ, ∃y ∈ ℕ: x ≤ y', '∑_{i=1}^{n} i = n(n+1)/2', '∫₀^∞ e^{-x²} dx = √π/2', 'α+β=γ', '≠≈∞⊂⊆∪∩→⇒⇔', 'x² + y² = z²',
  'func main() {\n\tfmt.Println("hi")\n}\n', 'if (a && b) { return x->y; }', 'def f(x):\n    return x ** 2\n', '#include <stdio.h>',
  'a == b != c <= d >= e', '/* comment */ // line', '{"role": "user", "content": "hi"}', '<p class="x">&amp;</p>', 'C:\\Users\\x',
  '...', '!!!', '???', '?!?!', '---', '***', '___', '===', '((()))', '[[]]', '"quoted"', '«guillemets»', '—dash—', '…', '.\n', '!\n\n', '.\r\n',
  '?\n\n\nnext', ' .\n', ' ...\n\n', 'a.\nb', 'a \n.b',
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|im_start|>user\nhi<|im_end|>\n',
  '<|im_start|>system\nYou are a teacher.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
  'hello<|im_end|>world', ' <|im_start|> ', '  <|im_end|>  ', '<|im_start|><|im_end|>', '<|im_start', '<|im_start|>>', '<<|im_start|>',
  '<|im_start|>\n\n', '\n\n<|im_end|>', "<|im_end|>'s", '<|im_end|>123', '<|endoftext|><|endoftext|>',
  '<|begin_of_thought|>think<|end_of_thought|>', '<|begin_of_solution|>42<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n',
  'Because 6*7=42.<|end_of_explanation|><|im_end|>', '<|begin_of_explanation|>', '<|begin_of_explanation', 'begin_of_explanation|>',
  '<|im_start|>Cafe\u0301<|im_end|>', '<|im_start|>\u0301', 'x<|im_end|>\u0301',
  'cat', 'a cat sat', 'concat', 'cats', 'cat.', '_cat', 'cat_', '(cat)', 'ca\u0301t cat', 'cat\u0301', 'catcat', 'dog', 'dogma', 'dogmatic',
  'hotdog', 'a <mask> b', 'a  <mask>  b', '\t<mask>', '<mask><mask>', ' <mask> <mask> ', 'x [R]  y', '[R]\n\nz', '[R][R]', 'a <both>  b',
  ' <both> <both> ', '<|endoftext|> x', 'x <|endoftext|>',
  'supercalifragilistic', ' supercalifragilistic', 'explanation', 'explanations', 'EXPLANATION', 'награда', 'награды',
  'The teacher explains why the answer holds.', "The student's log-probabilities are computed with teacher forcing.",
  'Explanation: Pair the first and last numbers: 1 + 100 = 101, 2 + 99 = 101, and so on.',
  'THE STUDENT\'S LOG-PROBABILITIES ARE COMPUTED WITH TEACHER FORCING.',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ababababababababababab', '                                        x',
  '\n'.repeat(30) + 'x', ' \t'.repeat(20), '0123456789'.repeat(10), 'ha'.repeat(50), '中'.repeat(100), '😀'.repeat(30),
];

// Random strings from a fixed seed: code points drawn from long-assigned blocks plus
// every kind of boundary the pre-tokenizers care about.
function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20250610);
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
const range = (a, b) => () => String.fromCodePoint(a + Math.floor(rnd() * (b - a + 1)));
const lit = (...xs) => () => pick(xs);
const pools = [
  [range(0x61, 0x7a), 8], [range(0x41, 0x5a), 3], [range(0x30, 0x39), 3], [range(0x21, 0x2f), 2], [range(0x3a, 0x40), 2],
  [range(0x5b, 0x60), 1], [range(0x7b, 0x7e), 1],
  [lit(' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\r', '\n\n', ' \n', '\u00a0', '\u3000', '\u2028', '\u0085', '\u000b', '\u2003', '\u202f'), 6],
  [lit("'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'LL", "'d", "'D", "'", "'\u017f"), 2],
  [range(0xc0, 0xff), 2], [range(0x100, 0x17f), 1], [range(0x300, 0x36f), 2], [range(0x391, 0x3c9), 1], [range(0x410, 0x44f), 2],
  [range(0x621, 0x64a), 1], [range(0x660, 0x669), 1], [range(0x905, 0x939), 1], [range(0x93e, 0x94d), 1], [range(0x966, 0x96f), 1],
  [range(0x4e00, 0x4fff), 2], [range(0x3041, 0x3093), 1], [range(0xac00, 0xadff), 1], [range(0x1100, 0x1112), 1], [range(0x1161, 0x1175), 1],
  [range(0x2200, 0x22ff), 1], [range(0x2150, 0x2182), 1], [range(0xff10, 0xff19), 1], [range(0x1d400, 0x1d44f), 1],
  [range(0x1f600, 0x1f64f), 2], [range(0x1f3fb, 0x1f3ff), 1], [lit('\u200d', '\ufe0f', '\u200b', '\u200c'), 1], [range(0x2600, 0x26ff), 1],
  [lit('<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|begin_of_thought|>', '<|end_of_explanation|>', '<|', '|>', '<mask>', '[R]', 'cat', 'dog', 'Cafe\u0301!'), 1],
  [lit('the', 'teacher', 'student', 'explanation', 'solution', ' the', ' and', 'ing', 'tion'), 4],
];
const totalW = pools.reduce((s, [, w]) => s + w, 0);
function randomPiece() {
  let x = rnd() * totalW;
  for (const [f, w] of pools) { if ((x -= w) < 0) return f(); }
  return pools[0][0]();
}
// GEN_RANDOM=N adds N more random strings (for a large local differential
// run; the committed goldens use the default 0).
const extra = Number(process.env.GEN_RANDOM || 0);
for (let i = 0; i < 124 + extra; i++) {
  const n = i < 120 || i >= 124 ? 1 + Math.floor(rnd() * 40) : 300 + Math.floor(rnd() * 200);
  let s = '';
  for (let j = 0; j < n; j++) s += randomPiece();
  texts.push(s);
}

// Long runs of combining marks ("Zalgo" text), where normalisers that apply
// the Stream-Safe Text Process (inserting U+034F) part ways with Hugging Face.
texts.push(
  'e' + '\u0301'.repeat(40) + 'x', 'x' + '\u0323\u0301'.repeat(20), 'a' + '\u0301\u0323'.repeat(25) + ' zalgo',
  '\u1100\u1161\u11a8'.repeat(5), 'o\u031b\u0323\u0302' + '\u0300'.repeat(35),
);
for (let i = 0; i < 6; i++) {
  let s = '';
  for (let w = 0; w < 3; w++) {
    s += pick(['Z', 'a', 'l', 'g', 'o', 'é', ' ', 'ế']);
    const n = 20 + Math.floor(rnd() * 40);
    for (let j = 0; j < n; j++) s += String.fromCodePoint(pick([0x300 + Math.floor(rnd() * 0x70), 0x1dc0 + Math.floor(rnd() * 0x30), 0x20d0 + Math.floor(rnd() * 0x20)]));
  }
  texts.push(s);
}

// ---------------------------------------------------------------- goldens
const golden = { tokenizers_version: pkg.version, texts, ids: {}, decoded: {} };
for (const [name, tok] of Object.entries(loaded)) {
  const ids = [];
  const dec = {};
  for (let i = 0; i < texts.length; i++) {
    const enc = await tok.encode(texts[i], null, { addSpecialTokens: false });
    const got = enc.getIds();
    ids.push(got);
    const d = await tok.decode(got, false);
    if (d !== texts[i]) dec[i] = d;
  }
  golden.ids[name] = ids;
  golden.decoded[name] = dec;
}
// qwen2_pairs and qwen2_strings share their merges; only the RLT tags (added
// tokens in one, plain text in the other) may make their ids differ.
if (JSON.stringify(golden.ids.qwen2_strings) === JSON.stringify(golden.ids.qwen2_pairs)) {
  throw new Error('qwen2_strings should differ from qwen2_pairs (RLT tags are plain text there)');
}
writeFileSync(join(out, 'golden.json'), JSON.stringify(golden) + '\n');
console.log(`tokenizers ${pkg.version}: ${texts.length} texts x ${Object.keys(loaded).length} fixtures`);
