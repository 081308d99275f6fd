// Package preference is the channel preference model: for one customer and
// each channel (email, sms, voice, ai_voice, letter) the probability that
// an attempt gets a useful response, starting from a population prior and
// updated from the customer's own engagement features as each event
// arrives, so one reply changes the next choice without waiting for the
// weekly retrain. It only recommends: the caller passes the channels that
// compliance allows, and the model never picks another.
//
// # Trials and successes
//
// The input is the engagement consumer's per-customer [engagement.Features]
// (counts per channel and signal). Per channel:
//
//   - A trial is an attempt whose fate we learnt: delivered, bounced or
//     failed for a message; answered, unanswered or failed for a call. A
//     bounce or a dead number counts: choosing that channel for that person
//     got nothing, which is what the probability is about.
//   - A success is a useful response: replied, clicked, paid, promised, and
//     for calls answered (a conversation is a call's reply). Opens are not
//     successes: mail privacy proxies open messages nobody read. Opt-outs
//     and complaints are not successes either; their attempts stay trials.
//   - Successes are the largest of those signal counts, not their sum: one
//     attempt often raises several (a call answered and a promise made in
//     it, a text replied to and its link clicked) and the counts do not say
//     which attempt each came from. The maximum never counts an attempt
//     twice; it undercounts when different attempts got different kinds of
//     response.
//   - Successes never exceed trials: when they would, trials are raised to
//     successes. A response can arrive without its delivery receipt (the
//     receipt was lost, or the channel has none, like a letter), and the
//     response itself proves the attempt reached the person. The price is
//     that a channel without receipts only learns from responses and reads
//     high. Letters have none: the dispatch gate records when it allowed
//     each letter (engagement.Features.Letters), and [WithLetters] counts
//     them as delivered once their reply window has passed. The worklist
//     applies it for every customer, so the daily run and the cycle's
//     Score step read letters alike.
//
// The features' "voice_ai" key (the events spelling) is read as ai_voice;
// prerecorded, web and payment counts are ignored: they are not channels
// the model chooses between, and a payment through the portal does not say
// which contact prompted it.
//
// # Prior and posterior
//
// The population prior is a Beta per channel, a mean rate and a strength
// (pseudo-trials), fitted by [FitPrior] with the beta-binomial method of
// moments over the customers who have trials on the channel. Strength is
// kept between 1 and 30: the variance estimate is noisy with few trials
// per customer, and a customer's own handful of attempts must be able to
// move the estimate. A channel with no trials in the population gets the
// default prior (rate 10%, strength 2: a guess worth two attempts); with
// fewer than 10 customers its rate is fitted but its strength is the
// default. [Estimate] returns per channel the posterior Beta(rate*strength +
// successes, (1-rate)*strength + failures): its mean, its 90% credible
// interval and the trials and successes behind it.
//
// # Choice and bounded exploration
//
// [Choose] picks, among the allowed channels, the one with the highest
// posterior mean (less cost over value when costs are given), except when
// it explores. Exploration is Thompson sampling seeded by a hash of the
// caller's key, so the same key and features give the same choice, and it
// is bounded three ways:
//
//   - Only a share of keys may explore at all (Options.ExploreShare, 10% by
//     default): the key's hash decides, so at most that share of choices is
//     explorative, by construction and whatever the posteriors.
//   - In an exploring choice, a channel can replace the greedy one only if
//     its posterior mean is within Options.RegretBound (5 points) of the
//     best, so the expected response lost is at most the bound, or it has
//     fewer than Options.MinTrials trials (2), so a channel never tried can
//     still be learnt.
//   - The second case ends by itself: each exploration of an under-tried
//     channel adds a trial once its outcome is in, so a customer pays for
//     about MinTrials such explorations per channel.
//
// # Offline evaluation
//
// [Replay] is the offline replay method of Li et al. (2011): rows are
// streamed in time order, a policy is credited with a row, and learns from
// it, only when its pick equals the logged arm. [BankReplay] runs it on the
// UCI bank-marketing calls with the contact types (cellular, telephone,
// unknown) as arms, against always the best arm of the training year and
// the best arm of every call so far. The
// data is observational: the bank chose the line to call, so the replay is
// biased, and [ReplayResult] says so.
package preference
