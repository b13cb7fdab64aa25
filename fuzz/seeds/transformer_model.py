"""Writes tiny transformer model directories (BERT config, labels, tiny tokenizer, random f32
weights in model.safetensors) for the seeds of the `transformer_model` fuzz target.

    python3 fuzz/seeds/transformer_model.py OUT_DIR HIDDEN INTERMEDIATE [--prior]

A seed is config.json, labels.json and the weights file (optionally tokenizer.json after them)
joined by b"\n--file--\n" (see fuzz/src/bin/transformer_model.rs). The seeds in
fuzz/corpus/transformer_model/ were made from `OUT h4 4 8` and `OUT h32 32 32 --prior`:
h4's model.safetensors (once with the files' SHA-256 in the config), the model.gguf of
`ontleed quantize --ner-model OUT/h4 --out OUT/h4q` (all f32; once followed by the tokenizer) and
of h32 (Q8_0 matrices), and h4's config and labels with the first 4 KiB of
models/accurate/model.gguf."""
import array, json, random, shutil, struct, sys
from pathlib import Path

out, h, inter = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
prior = "--prior" in sys.argv
here = Path(__file__).resolve().parent
vocab, max_pos, labels = 16, 16, ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
out.mkdir(parents=True, exist_ok=True)
ontleed = {"max_len": 12, "context_sentences": 0, "pack_sentences": True}
if prior:
    ontleed["transitions"] = {"weight": 0.5, "log_probs": [[-2.1972246] * 9 for _ in labels]}
config = {"vocab_size": vocab, "hidden_size": h, "num_hidden_layers": 1, "num_attention_heads": 2,
          "intermediate_size": inter, "hidden_act": "gelu", "max_position_embeddings": max_pos,
          "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 1, "ontleed": ontleed}
(out / "config.json").write_text(json.dumps(config) + "\n")
(out / "labels.json").write_text(json.dumps(labels) + "\n")
shutil.copy(here.parent / "src" / "tiny_tokenizer.json", out / "tokenizer.json")
rng = random.Random(7)
L = "bert.encoder.layer.0."
shapes = {"bert.embeddings.word_embeddings.weight": [vocab, h],
          "bert.embeddings.position_embeddings.weight": [max_pos, h],
          "bert.embeddings.token_type_embeddings.weight": [2, h],
          "bert.embeddings.LayerNorm.weight": [h], "bert.embeddings.LayerNorm.bias": [h]}
for n in ["query", "key", "value"]:
    shapes[L + f"attention.self.{n}.weight"] = [h, h]
    shapes[L + f"attention.self.{n}.bias"] = [h]
for pre, o, i in [("attention.output.", h, h), ("intermediate.", inter, h), ("output.", h, inter)]:
    shapes[L + pre + "dense.weight"] = [o, i]
    shapes[L + pre + "dense.bias"] = [o]
for pre in ["attention.output.", "output."]:
    shapes[L + pre + "LayerNorm.weight"] = [h]
    shapes[L + pre + "LayerNorm.bias"] = [h]
shapes["classifier.weight"] = [len(labels), h]
shapes["classifier.bias"] = [len(labels)]
header, blobs, off = {}, [], 0
for name, shape in shapes.items():
    n = 1
    for d in shape:
        n *= d
    ones = name.endswith("LayerNorm.weight")
    b = array.array("f", [1.0 if ones else round(rng.gauss(0, 0.5), 2) for _ in range(n)]).tobytes()
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * ((8 - len(hj) % 8) % 8)
with open(out / "model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
