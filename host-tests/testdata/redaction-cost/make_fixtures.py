"""Writes the redaction cost fixtures: one OpenAI chat call whose prompt is 1, 16 or 60 KB of real text, clean or
dense with findings. `python3 make_fixtures.py` (from this directory; reads ../../../../shared/captures and the test
vectors in core/src/policy/redaction/testdata/vectors.jsonl).

Clean text: the prose and JSON of the shared captures (request messages, answers, tool arguments), deduplicated.
Dense text: the same with one test vector planted every ~100 bytes, in turn in prose, inside a JSON string and with
its newlines JSON-escaped. Planted secrets keep the vectors' `¦` marks, so this repository holds no shape-valid
secret; `wasm-cost --per-byte` removes every `¦` before playing the exchange."""
import glob, json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, '../../../../shared/captures')
VECTORS = os.path.join(HERE, '../../../core/src/policy/redaction/testdata/vectors.jsonl')
SIZES = {'1k': 1024, '16k': 16 * 1024, '60k': 60 * 1024}


def texts():
    seen, out = set(), []

    def add(s):
        if isinstance(s, str) and len(s) >= 40 and s not in seen:
            seen.add(s)
            out.append(s)

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ('content', 'text', 'prompt', 'input', 'system', 'arguments') and isinstance(x, str):
                    add(x)
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for f in sorted(glob.glob(os.path.join(CAPTURES, '*.json'))):
        d = json.load(open(f))
        for side in ('request', 'response'):
            body = d[side].get('body')
            try:
                walk(json.loads(body))
            except (TypeError, ValueError):
                pass
    return out


def clean_text(n):
    pool = '\n\n'.join(texts())
    while len(pool) <= n:
        pool += '\n\n' + pool
    cut = pool[:n]
    return cut[:cut.rfind(' ')]


def dense_text(n):
    vectors = [json.loads(l) for l in open(VECTORS)]
    planted = [v['redact'] for v in vectors if v.get('redact')]
    random.Random(15).shuffle(planted)
    # One vector every ~100 bytes of clean text.
    words = clean_text(4 * n).split(' ')
    out, since, k = [], 0, 0
    for w in words:
        out.append(w)
        since += len(w) + 1
        if since >= 100:
            v = planted[k % len(planted)]
            mode = k % 3
            if mode == 0:
                out.append(v)
            elif mode == 1:
                out.append(json.dumps({'note': v}, ensure_ascii=False))
            else:
                out.append(v.replace('\n', '\\n'))
            k += 1
            since = 0
        if sum(len(x) + 1 for x in out) >= n:
            break
    return ' '.join(out)


def exchange(name, prompt):
    body = json.dumps({'model': 'gpt-4o-mini', 'messages': [{'role': 'user', 'content': prompt}]}, ensure_ascii=False)
    answer = json.dumps({'id': 'chatcmpl-cost', 'object': 'chat.completion', 'model': 'gpt-4o-mini-2024-07-18',
                         'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': 'Noted.'},
                                      'finish_reason': 'stop'}],
                         'usage': {'prompt_tokens': len(prompt) // 4, 'completion_tokens': 2,
                                   'total_tokens': len(prompt) // 4 + 2}})
    return {
        'name': name,
        'source': 'llm-trace redaction cost fixture (make_fixtures.py): text from shared/captures, vectors from '
                  'core/src/policy/redaction/testdata',
        'request': {'method': 'POST', 'url': 'https://api.openai.com/v1/chat/completions',
                    'headers': {'content-type': 'application/json', 'content-length': str(len(body.encode()))},
                    'body': body},
        'response': {'status': 200, 'headers': {'content-type': 'application/json'}, 'body': answer},
    }


for label, n in SIZES.items():
    for kind, make in (('clean', clean_text), ('dense', dense_text)):
        name = f'{kind}-{label}'
        with open(os.path.join(HERE, name + '.json'), 'w') as f:
            json.dump(exchange('redaction-cost-' + name, make(n)), f, indent=1, ensure_ascii=False)
            f.write('\n')
        print(name, len(make(n).encode()))
