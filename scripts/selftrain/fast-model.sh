#!/bin/sh
# Rebuilds the shipped fast NER model (models/fast/model.bin) from scratch: the accurate model's
# labels on Dutch text we may use (self-training), casing-augmented copies, our modern training
# sentences, ned.train. See models/fast/README.md ("Reproduce") for what each file is.
# usage: scripts/selftrain/fast-model.sh [SEED] [OUT]   (from the repository root; default seed 42,
#        out target/selftrain/fast). Needs ../shared/data (CoNLL-2002, WikiNEuRal, SIB-200) and a
#        binary with the train feature: cargo build --release --features train
set -e
seed=${1:-42}
out=${2:-target/selftrain/fast}
BIN=${BIN:-target/release/ontleed}
D=../shared/data
W=target/selftrain
mkdir -p $W/text $W/silver $W/aug
# 1. token files: one document per Wikipedia/SIB sentence, per written modern article, per headline
python3 scripts/selftrain/prep_text.py $W/text
# 2. silver labels from the accurate model (the binary's default NER model)
for s in modern modern-headlines sib200 wikineural; do
  $BIN tag $W/text/$s.tok -o $W/silver/$s.conll
done
# 3. casing copies of ned.train and of the modern silver
python3 scripts/selftrain/augment.py --out $W/aug/train-case.conll --seed 1 --trunc 0.15 --capfirst 0.1 \
  --nopunct 0.15 --lower 0.05 --upper 0.02 $D/conll2002-nl/ned.train
python3 scripts/selftrain/augment.py --out $W/aug/modern-case.conll --seed 1 --trunc 0.15 --capfirst 0.1 \
  --nopunct 0.15 --lower 0.05 --upper 0.02 $W/silver/modern.conll $W/silver/modern-headlines.conll
# 4. train (the card's perceptron recipe)
$BIN train --arch perceptron --train $D/conll2002-nl/ned.train \
  $W/silver/wikineural.conll $W/silver/modern.conll $W/silver/modern-headlines.conll $W/silver/sib200.conll \
  $W/aug/train-case.conll $W/aug/modern-case.conll data/ner-modern/train/part-*.conll \
  --dev $D/conll2002-nl/ned.testa --gazetteers data/gazetteers \
  --epochs 50 --seed $seed --min-count 2 --feature-dropout 0.2 --out $out
