"""Column names of every tidy frame the engine returns, documented in one place.

Probes return long-form pandas DataFrames; widgets, figures, metrics and users refer to columns
through these constants, never through string literals scattered around.
"""

# --- shared by every multiple-choice probe: one row per item x (condition) x choice position ----
ITEM_ID = "item_id"  # Item.id
QUESTION = "question"  # the item's question text
PROMPT = "prompt"  # the exact text given to the model
FORMAT = "format"  # name of the prompt format (letters, string, cloze, ...)
SHOTS = "shots"  # number of in-context demonstrations
SEED = "seed"  # seed that drew the demonstrations (or orders)
K = "k"  # number of choices of the item
POSITION = "position"  # 0-based position at which the choice is shown
LABEL = "label"  # label shown at that position ("A"), or "" for unlabelled formats
CHOICE_INDEX = "choice_index"  # index of the choice in the item as loaded (its origin)
CHOICE = "choice"  # the choice's text
TARGET = "target"  # the scored string (" A" or " Paris")
LOGPROB = "logprob"  # log p(target | prompt): label token, or summed continuation tokens
PROB = "prob"  # exp(logprob): raw probability, out of the whole vocabulary / sequence space
PROB_NORM = "prob_norm"  # prob renormalised over the item's choices (sums to 1 per prompt)
N_TOKENS = "n_tokens"  # tokens in the scored target
IS_GOLD = "is_gold"  # this choice is the gold answer
IS_PRED = "is_pred"  # this choice has the largest score for this prompt
INTERVENTION = "intervention"  # active interventions, "" when none

CHOICE_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, K, POSITION, LABEL, CHOICE_INDEX, CHOICE, TARGET, LOGPROB, PROB,
                  PROB_NORM, N_TOKENS, IS_GOLD, IS_PRED, INTERVENTION, PROMPT]

# --- permutation probe (explorer.probes.permutation): one row per item x order x position ----------
ORDER_ID = "order_id"  # 0-based index of the order in the list of orders asked for (per number of choices)
ORDER = "order"  # the order as original choice indices, "1,2,3,0": choice order[i] is shown at position i

PERMUTATION_COLUMNS = [ITEM_ID, ORDER_ID, ORDER, FORMAT, SHOTS, SEED, K, POSITION, LABEL, CHOICE_INDEX, CHOICE,
                       TARGET, LOGPROB, PROB, PROB_NORM, N_TOKENS, IS_GOLD, IS_PRED, INTERVENTION, PROMPT]

# --- attentiveness probe (explorer.probes.attentiveness): one row per item x format x shots x seed ---
ANSWER = "answer"  # gold position in the prompt, <NA> when the item has no gold
PMA = "pma"  # probability mass on the valid choices: sum of CHOICE_PROBS
PMA_FIRST = "pma_first"  # string/cloze: mass on the choices' distinct first tokens (letters: = pma)
P1 = "p1"  # largest choice score
P2 = "p2"  # second largest choice score
RESOLVED = "resolved"  # SFC bound: 1 - pma < p1 - p2 (stray mass cannot flip the prediction)
GREEDY_TOKEN = "greedy_token"  # the most likely next token, decoded (" A", "\n", ...)
GREEDY_TOKEN_ID = "greedy_token_id"  # its id
GREEDY_PROB = "greedy_prob"  # its probability
GREEDY_VALID = "greedy_valid"  # the greedy token is a label (letters) or a choice's first token (string/cloze)
GREEDY_INVALID = "greedy_invalid"  # not greedy_valid (summary helper column)
PRED = "pred"  # position of the largest choice score
CORRECT = "correct"  # pred == answer (<NA> without gold)
PRED_PMI = "pred_pmi"  # argmax of the domain-conditional PMI score
CORRECT_PMI = "correct_pmi"
PRED_NORM = "pred_norm"  # argmax of logprob / characters (lm-evaluation-harness acc_norm)
CORRECT_NORM = "correct_norm"
CHOICE_PROBS = "choice_probs"  # list per position: label prob, or sequence prob (string/cloze)
CHOICE_FIRST_PROBS = "choice_first_probs"  # list per position: probability of the choice's first token
PREMISE_LOGPROBS = "premise_logprobs"  # list per position: log p(target | premise "Answer:")
CHOICE_CHARS = "choice_chars"  # list per position: characters used for length normalisation
TOP_INVALID = "top_invalid"  # list: the most likely tokens that are not valid, decoded, best first
TOP_INVALID_PROBS = "top_invalid_probs"  # list: their probabilities

ATTENTIVENESS_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, K, ANSWER, PMA, PMA_FIRST, P1, P2, RESOLVED, GREEDY_TOKEN,
                         GREEDY_TOKEN_ID, GREEDY_PROB, GREEDY_VALID, PRED, CORRECT, PRED_PMI, CORRECT_PMI, PRED_NORM,
                         CORRECT_NORM, CHOICE_PROBS, CHOICE_FIRST_PROBS, PREMISE_LOGPROBS, CHOICE_CHARS, TOP_INVALID,
                         TOP_INVALID_PROBS, INTERVENTION, PROMPT]

# --- layer-by-layer PMA (explorer.probes.layers): one row per item x layer ---------------------------
LAYER = "layer"  # 0 = embeddings, l = output of decoder block l (the last is the model's own output)
P_GOLD = "p_gold"  # probability of the gold choice's token at this layer

LAYER_PMA_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, LAYER, PMA, P_GOLD, PRED, CORRECT, CHOICE_PROBS, INTERVENTION]

# --- calibration (explorer.probes.calibration): one row per scored prompt, then per group x bin -------
# Per prompt (item x condition) the probe also fills PRED, ANSWER, CORRECT and CHOICE_PROBS above.
CONFIDENCE = "confidence"  # probability of the predicted choice (prob_norm, or raw prob, as asked)
PRED_CHOICE = "pred_choice"  # the predicted choice's text
OPTION_BRIER = "option_brier"  # sum over the prompt's options of (p_j - y_j)^2 (NaN after Platt scaling)
EVENT = "event"  # confidence is p(a binary event holds) (P(True)); correct says whether it held
CONDITION = "condition"  # a compared condition: "orders"/"debiased", "baseline"/"intervention", ...
N_ORDERS = "n_orders"  # debiased frames: number of orders averaged per item x choice
BIN = "bin"  # index of the reliability bin (0..n_bins-1) in its group
BIN_LOW = "bin_low"  # the bin's lower edge
BIN_HIGH = "bin_high"  # the bin's upper edge
COUNT = "count"  # predictions in the bin (or group)
ACCURACY = "accuracy"  # mean correctness in the bin (or group)
GAP = "gap"  # accuracy - confidence: > 0 under-confident, < 0 over-confident
# summary: one row per group (also the CLI's summary keys)
N = "n"  # predictions in the group
MEAN_CONFIDENCE = "mean_confidence"
ECE = "ece"  # sum_b (n_b/n)|acc_b - conf_b|
MCE = "mce"  # max_b |acc_b - conf_b|
SMECE = "smece"  # smooth ECE (Blasiok & Nakkiran 2023): relplot.smECE(confidence, correct), no bins
SMECE_LOW = "smece_low"  # its percentile bootstrap 95% interval over predictions
SMECE_HIGH = "smece_high"
BRIER = "brier"  # mean over prompts of OPTION_BRIER
BRIER_TOP = "brier_top"  # mean (confidence - correct)^2
BALANCE = "balance"  # balance score: mean accuracy - mean confidence of the predicted answer (event rows: of the side they predict)
SELECTIVE_AUC = "selective_auc"  # area under the accuracy-coverage curve
TEMPERATURE = "temperature"  # fitted temperature (median over cross-fitting folds)
PLATT_A = "platt_a"  # Platt scaling slope a of sigmoid(a logit(c) + b) (median over folds)
PLATT_B = "platt_b"  # Platt scaling intercept b (median over folds)
AT_BOUND = "at_bound"  # a fold's fitted T, a or b ended at its search bound (explorer.metrics.recalibration)

RELIABILITY_COLUMNS = [BIN, BIN_LOW, BIN_HIGH, COUNT, CONFIDENCE, ACCURACY, GAP]
SUMMARY_METRICS = [N, ACCURACY, MEAN_CONFIDENCE, ECE, MCE, BRIER, BRIER_TOP, BALANCE, SELECTIVE_AUC, SMECE, SMECE_LOW,
                   SMECE_HIGH]

# --- P(True) self-evaluation (explorer.probes.ptrue): one row per item x proposed answer -------------
PROPOSED_INDEX = "proposed_index"  # choice_index of the proposed answer
PROPOSED = "proposed"  # its text
LOGPROB_TRUE = "logprob_true"  # log p(true label | prompt), e.g. " True"
LOGPROB_FALSE = "logprob_false"  # log p(false label | prompt)
P_TRUE = "p_true"  # p(true) / (p(true) + p(false)): the self-evaluation confidence
P_TRUE_RAW = "p_true_raw"  # p(true) out of the whole vocabulary

PTRUE_COLUMNS = [ITEM_ID, FORMAT, PROPOSED_INDEX, PROPOSED, IS_GOLD, LOGPROB_TRUE, LOGPROB_FALSE, P_TRUE, P_TRUE_RAW,
                 INTERVENTION, PROMPT]

# --- head probe (explorer.probes.heads, explorer.probes.sweep): one row per prompt x layer x head ----
# LAYER (above) here is the 0-based decoder block that holds the head; TARGET is the answer of interest
# (e.g. the in-context city) and FOIL its rival (e.g. the memorised capital), both as text.
PROMPT_ID = "prompt_id"  # Counterfactual.id
HEAD = "head"  # 0-based query head within the layer
FOIL = "foil"  # the rival answer's text
ATTRIBUTION = "attribution"  # head's direct effect on logit(target) - logit(foil), pre-softcap, frozen final norm
LOGIT_DIFF = "logit_diff"  # logit(target) - logit(foil) at the last position (first tokens)
COMPONENT = "component"  # decomposition: embeddings | heads | attn_bias | mlp | norm_bias
FACTOR = "factor"  # multiplier on the scaled heads' outputs (1 = unchanged)
HEADS = "heads"  # scaled heads, "L12H3,L20H1"
TARGET_LOGPROB = "target_logprob"  # log p(target's first token | prompt)
FOIL_LOGPROB = "foil_logprob"  # log p(foil's first token | prompt)
TARGET_WINS = "target_wins"  # logit(target) > logit(foil)
TARGET_RATE = "target_rate"  # mean TARGET_WINS over prompts
MEAN_LOGIT_DIFF = "mean_logit_diff"  # mean LOGIT_DIFF over prompts
N_PROMPTS = "n_prompts"  # prompts averaged

HEAD_ATTRIBUTION_COLUMNS = [PROMPT_ID, LAYER, HEAD, ATTRIBUTION, LOGIT_DIFF, TARGET, FOIL, INTERVENTION]
MEAN_ATTRIBUTION_COLUMNS = [LAYER, HEAD, ATTRIBUTION, N_PROMPTS]
COMPONENT_COLUMNS = [PROMPT_ID, COMPONENT, LAYER, ATTRIBUTION]
SWEEP_COLUMNS = [PROMPT_ID, HEADS, FACTOR, TARGET_LOGPROB, FOIL_LOGPROB, LOGIT_DIFF, TARGET_WINS, TARGET, FOIL]
SWEEP_SUMMARY_COLUMNS = [HEADS, FACTOR, TARGET_RATE, MEAN_LOGIT_DIFF, N_PROMPTS]

# --- quantity chain (explorer.probes.chain): one row per item x condition ------------------------------
# Also ITEM_ID, CONDITION, FORMAT, SHOTS, SEED, INTERVENTION, K, ANSWER (gold position), PRED, CORRECT,
# CHOICE_PROBS (p_vocab per position) and PROMPT above. "vocab" probabilities are out of the whole
# vocabulary (string/cloze formats: the choice's sequence probability); "choices" ones are renormalised
# over the item's choices. BRIER (above) is here per item: sum_j (p_choices_j - y_j)^2.
MODEL = "model"  # the model's name (or the key it was given under)
LOGP_VOCAB_GOLD = "logp_vocab_gold"  # log p(gold target | prompt)
P_VOCAB_GOLD = "p_vocab_gold"  # exp(logp_vocab_gold)
P_CHOICES_GOLD = "p_choices_gold"  # p_vocab_gold / sum over the choices of p_vocab
P_VOCAB_WRONG = "p_vocab_wrong"  # sum over the wrong choices of p_vocab: the mass the wrong choices take
P_VOCAB_WRONG_MAX = "p_vocab_wrong_max"  # the largest wrong choice's p_vocab
P_CHOICES_WRONG_MAX = "p_choices_wrong_max"  # its renormalised probability: correct iff p_choices_gold exceeds it

CHAIN_LINKS = [LOGP_VOCAB_GOLD, P_VOCAB_GOLD, P_CHOICES_GOLD, CORRECT, BRIER]  # the chain, in order
CHAIN_COLUMNS = [CONDITION, MODEL, ITEM_ID, FORMAT, SHOTS, SEED, INTERVENTION, K, ANSWER, LOGP_VOCAB_GOLD,
                 P_VOCAB_GOLD, P_CHOICES_GOLD, P_VOCAB_WRONG, P_VOCAB_WRONG_MAX, P_CHOICES_WRONG_MAX, PRED, CORRECT,
                 BRIER, CHOICE_PROBS, PROMPT]
# agreement of two conditions (explorer.metrics.chain): one row per pair x link
CONDITION_A = "condition_a"  # the first condition of the pair
CONDITION_B = "condition_b"  # the second
LINK = "link"  # a quantity of CHAIN_LINKS
SPEARMAN = "spearman"  # rank correlation over items of the link's value under A and under B (average ranks)
PEARSON = "pearson"  # linear correlation, likewise
SAME_SIGN = "same_sign"  # share of items whose change B - A has the same sign here as at the first link
                         # (brier negated, so that up means better at every link)
CHAIN_AGREEMENT_COLUMNS = [CONDITION_A, CONDITION_B, LINK, SPEARMAN, PEARSON, SAME_SIGN, N]

# --- smoothed reliability curve (explorer.metrics.smooth): one row per group x mesh point -------------
MESH = "mesh"  # confidence at which the curve is evaluated
SMOOTH_ACCURACY = "smooth_accuracy"  # kernel-smoothed E[correct | confidence]
SMOOTH_LOW = "smooth_low"  # its bootstrap 95% band
SMOOTH_HIGH = "smooth_high"
DENSITY = "density"  # kernel density of the confidences at the mesh point

SMOOTH_RELIABILITY_COLUMNS = [MESH, SMOOTH_ACCURACY, SMOOTH_LOW, SMOOTH_HIGH, DENSITY]

# --- distributed runs (explorer.distributed): added to every probe's rows in a run folder -----------
WORKER = "worker"  # the actor that computed the row, "host:pid" (one per unit of work)
KNOWN = "known"  # head probe's fact check: the model answers the fact prompt with the foil

KNOWN_COLUMNS = [PROMPT_ID, KNOWN]

# --- runs made elsewhere (explorer.runs: lm-eval, Open LLM Leaderboard, Inspect): one row per item x choice ---
# An imported run's frame holds PERMUTATION_COLUMNS (one order: the run's own, "0,1,...,k-1"; an Inspect order
# study names each log's order, the choice shown at each position being in choice_index), then these, then
# the metadata columns TASK, SUBJECT and GROUP below. FORMAT is "letters" (the scored continuations are labels
# " A"), "cloze" (the choices' texts) or "partial" (lm-eval multiple_input tasks: the context varies, the
# continuation is shared; CHOICE is then the context's varying end). N_TOKENS is <NA> (logs do not say).
N_CHARS = "n_chars"  # characters lm-eval's acc_norm divides by: len(choice string), <NA> when the log cannot tell
IS_GREEDY = "is_greedy"  # lm-eval: the scored continuation is the model's greedy continuation (<NA> if unknown)
LOGPROB_UNCONDITIONAL = "logprob_unconditional"  # lm-eval acc_mutual_info: log p(target | "") (<NA> without it)

RUN_COLUMNS = [*PERMUTATION_COLUMNS, QUESTION, N_CHARS, IS_GREEDY, LOGPROB_UNCONDITIONAL]
# Metadata the importers set (item metadata: groupable in every view and summary, so not in DOCUMENTED):
TASK = "task"  # the harness's task ("mmlu_abstract_algebra", "leaderboard_bbh_navigate", an Inspect task)
SUBJECT = "subject"  # the item's subject: the doc's own "subject", else the task's name less its group's
GROUP = "group"  # the task's nearest enclosing lm-eval group ("mmlu_stem"), "" when it has none
RUN_METADATA = (TASK, SUBJECT, GROUP)

# --- item metadata, after the documented columns of every frame built from items -------------------
# score_choices, permutation_probe, attentiveness, layer_pma, score_ptrue and the calibration frames
# (item_confidence, recalibrated, debias_orders) end with one column per key of their items'
# metadata (subject, category, dataset, ...; in the order first seen), so any summary can be grouped
# by them (``by=["subject"]``). Items without a key get None. A key that is also a documented
# column name comes as ``meta_<key>``. Items without metadata add no columns.
META_PREFIX = "meta_"

# Every documented column name above (the metadata columns are the others).
DOCUMENTED: frozenset[str] = frozenset(v for k, v in dict(globals()).items()
                                       if k.isupper() and isinstance(v, str) and k != "META_PREFIX"
                                       and v not in RUN_METADATA)


def metadata_columns(frame) -> list[str]:
    """The frame's metadata columns: those not documented here (and not private, ``_``-prefixed)."""
    return [c for c in frame.columns if c not in DOCUMENTED and not str(c).startswith("_")]


def group_columns(frame) -> list[str]:
    """Columns a view can group a frame's items by: ``k`` when items differ in it, then the metadata
    columns with more than one value and fewer values than items (not ids)."""
    n_items = frame[ITEM_ID].nunique() if ITEM_ID in frame else 0
    out = [K] if K in frame and frame[K].nunique() > 1 else []
    return out + [c for c in metadata_columns(frame) if 1 < frame[c].nunique(dropna=False) < n_items]
