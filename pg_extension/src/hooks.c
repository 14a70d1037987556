/*
 * microlora's hooks into PostgreSQL: executor start/run/finish/end, planner, utility and shared
 * memory request and start-up, each chained to the hook installed before it.
 *
 * Why these are C: an error raised by PostgreSQL or by the user's code while one of our hooks is
 * on the stack must reach the client exactly as stock PostgreSQL sends it, every field included
 * (SQLSTATE, schema/table/column/constraint names, CONTEXT, position). Rust code under pgrx turns
 * such an error into a panic and raises a rebuilt copy at its boundary, losing fields. So, as in
 * pg_stat_statements, the hooks are plain C: they restore their own state in PG_FINALLY and let
 * the original error continue, never catching it.
 *
 * Our own work happens in Rust (pg_extension/src/hooks.rs), behind calls that never raise into
 * the user's statement:
 *   - microlora_sample_statement and microlora_count_planning only read settings and add to
 *     counters; they catch their own panics;
 *   - microlora_observe_statement reads the executed plan (catalog lookups) and learns. It runs
 *     in an internal subtransaction with interrupts held, the way PL/pgSQL runs an exception
 *     block: if it fails, the subtransaction is rolled back (releasing whatever the failed code
 *     held), the error is logged and flushed, and the user's statement goes on. Holding
 *     interrupts means a query cancel that arrives meanwhile is served after us, never consumed.
 *
 * Nesting level (as pg_stat_statements counts it): 0 for a statement a client sent; ExecutorRun,
 * ExecutorFinish and utility statements run one level deeper, except EXECUTE, whose prepared
 * statement is the client's own.
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000
#include "commands/defrem.h"
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "common/keywords.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

/* Implemented in Rust (pg_extension/src/hooks.rs, shared.rs and persist.rs). */
extern bool microlora_sample_statement(int nesting_level, int eflags);
extern void microlora_observe_statement(QueryDesc *query_desc, bool with_times);
extern void microlora_count_planning(uint64 planning_ns);
extern void microlora_shmem_request(void);
extern void microlora_shmem_startup(void);
extern void microlora_load_state(void);

/* Plan steering, implemented in Rust (pg_extension/src/steer.rs). */
extern int	microlora_steer_mode(void);
extern int	microlora_arm_count(void);
extern const char *microlora_arm_setting(int arm, int i, const char **value);
extern void microlora_steer_forget(void);
extern bool microlora_steer_begin(PlannedStmt *plan, const char *query_string, int text_location,
								  int text_length, double planning_ms, bool dry);
extern int	microlora_steer_ahead(PlannedStmt *plan);
extern bool microlora_steer_planning_left(void);
extern void microlora_steer_consider(int arm, PlannedStmt *plan);
extern int	microlora_steer_choose(void);
extern void microlora_steer_planned(PlannedStmt *plan, int arm);
extern bool microlora_steer_started(PlannedStmt *plan, bool node_timing);
extern bool microlora_steer_finished(double ms);
extern void microlora_steer_ran(void);
extern bool microlora_count_rows(void);

/* Arms a statement can be planned under (core's MAX_ARMS). */
#define MAX_ARMS 8

/* Statements nested deeper than this are never sampled. */
#define MAX_TRACKED_LEVEL 64

/* The hooks installed before ours. */
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static planner_hook_type prev_planner = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;

/* The current nesting level (0 for a client's statement). */
static int nesting_level = 0;

/*
 * Whether the statement started at each nesting level is sampled: a statement starts and ends at
 * the same level, so its ExecutorEnd reads what its ExecutorStart decided.
 */
static bool sampled_at_level[MAX_TRACKED_LEVEL];

/* Whether the statement started at each nesting level is timed for steering. */
static bool timed_at_level[MAX_TRACKED_LEVEL];

/*
 * Whether the statement started at each nesting level counts its nodes' rows (without their
 * times, which cost a clock read per row), for the learned row counts steering judges plans on.
 */
static bool rows_at_level[MAX_TRACKED_LEVEL];

/*
 * A client's EXPLAIN being processed while steering is on or advising: its query string, and
 * where in it the statement it explains lies, [explained_start, explained_end). The planner hook
 * plans that statement as steering would run it, without recording or exploring anything, so
 * that EXPLAIN shows the plan the statement runs.
 */
static const char *explain_source = NULL;
static int	explained_start = -1;
static int	explained_end = -1;

static void
microlora_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	bool		timed = false;

	if (nesting_level < MAX_TRACKED_LEVEL)
	{
		bool		sampled = microlora_sample_statement(nesting_level, eflags);

		sampled_at_level[nesting_level] = sampled;
		if (sampled)
			queryDesc->instrument_options |= INSTRUMENT_TIMER | INSTRUMENT_ROWS;
		/* A client's statement the planner hook steered, or considered steering. */
		if (nesting_level == 0 && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
			timed = microlora_steer_started(queryDesc->plannedstmt, sampled);
		timed_at_level[nesting_level] = timed;
		rows_at_level[nesting_level] = timed && !sampled && microlora_count_rows();
		if (rows_at_level[nesting_level])
			queryDesc->instrument_options |= INSTRUMENT_ROWS;
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	/* The statement's own time, as pg_stat_statements measures it. */
	if (timed && queryDesc->totaltime == NULL)
	{
		MemoryContext caller_context = MemoryContextSwitchTo(queryDesc->estate->es_query_cxt);

		queryDesc->totaltime = InstrAlloc(1, INSTRUMENT_TIMER, false);
		MemoryContextSwitchTo(caller_context);
	}
}

/*
 * PostgreSQL 18 dropped ExecutorRun's execute_once argument; EXECUTOR_RUN_ARGS is the argument
 * list passed on, the rest of the hook is the same for every major.
 */
#if PG_VERSION_NUM >= 180000
static void
microlora_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count)
#define EXECUTOR_RUN_ARGS queryDesc, direction, count
#else
static void
microlora_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					  bool execute_once)
#define EXECUTOR_RUN_ARGS queryDesc, direction, count, execute_once
#endif
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(EXECUTOR_RUN_ARGS);
	}
	PG_FINALLY();
	{
		nesting_level--;
		/*
		 * How long a timed client statement has run, should an ERROR (a statement timeout)
		 * end it before ExecutorEnd: steer.rs records it at the session's next statement. Reads
		 * the clock and backend-local state only.
		 */
		if (nesting_level == 0 && timed_at_level[0])
			microlora_steer_ran();
	}
	PG_END_TRY();
}

static void
microlora_ExecutorFinish(QueryDesc *queryDesc)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/*
 * In the PG_CATCH of our own work in an internal subtransaction: restores the holdoff counts
 * (errfinish() zeroes them before it jumps there), logs the error, flushes it and rolls the
 * subtransaction back, which releases whatever the failed code held. The caller's memory context
 * is current afterwards; the caller restores its resource owner.
 */
static void
skip_failure(const char *what, MemoryContext caller_context, uint32 caller_holdoff,
			 uint32 caller_cancel_holdoff)
{
	ErrorData  *edata;

	InterruptHoldoffCount = caller_holdoff;
	QueryCancelHoldoffCount = caller_cancel_holdoff;
	MemoryContextSwitchTo(caller_context);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(caller_context);
	ereport(LOG,
			(errmsg("microlora: %s failed and was skipped: %s", what,
					edata->message ? edata->message : "(no message)")));
	FreeErrorData(edata);
}

/*
 * Runs our own work, work(arg), in an internal subtransaction with interrupts held; see the file
 * header. A subtransaction needs a transaction running normally (a cursor closed while its
 * transaction aborts is ended without one) and no parallel operation in progress: without them,
 * the work is not done. Returns whether it was done; the caller's memory context is current
 * afterwards.
 */
static bool
in_subtransaction(const char *what, void (*work) (void *), void *arg)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	uint32		caller_holdoff = InterruptHoldoffCount;
	uint32		caller_cancel_holdoff = QueryCancelHoldoffCount;
	volatile bool done = false;

	if (!IsTransactionState() || IsInParallelMode())
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		HOLD_INTERRUPTS();
		work(arg);
		RESUME_INTERRUPTS();
		ReleaseCurrentSubTransaction();
		done = true;
	}
	PG_CATCH();
	{
		skip_failure(what, caller_context, caller_holdoff, caller_cancel_holdoff);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
	return done;
}

/* An executed statement to learn from, and whether its nodes were timed. */
typedef struct Observation
{
	QueryDesc  *query_desc;
	bool		with_times;
} Observation;

static void
observe(void *arg)
{
	Observation *observation = arg;

	microlora_observe_statement(observation->query_desc, observation->with_times);
}

/* Learns from an executed statement, in an internal subtransaction. */
static void
observe_in_subtransaction(QueryDesc *queryDesc, bool with_times)
{
	Observation observation = {queryDesc, with_times};

	(void) in_subtransaction("learning from a statement", observe, &observation);
}

static void
microlora_ExecutorEnd(QueryDesc *queryDesc)
{
	bool		steering_learns = false;

	if (nesting_level < MAX_TRACKED_LEVEL && timed_at_level[nesting_level])
	{
		timed_at_level[nesting_level] = false;
		if (queryDesc->totaltime != NULL)
		{
			InstrEndLoop(queryDesc->totaltime);
			steering_learns = microlora_steer_finished(queryDesc->totaltime->total * 1000.0);
		}
	}
	if (nesting_level < MAX_TRACKED_LEVEL && sampled_at_level[nesting_level])
	{
		sampled_at_level[nesting_level] = false;
		observe_in_subtransaction(queryDesc, true);
	}
	else if (nesting_level < MAX_TRACKED_LEVEL && rows_at_level[nesting_level])
	{
		rows_at_level[nesting_level] = false;
		/* Only statements slow enough for steering to remember teach their row counts. */
		if (steering_learns)
			observe_in_subtransaction(queryDesc, false);
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * Where, in the text of a statement starting at `location` of `source`, the statement an EXPLAIN
 * explains starts: after the EXPLAIN keyword and its options, parenthesised or the bare ANALYZE
 * (ANALYSE) and VERBOSE; -1 if no statement follows. Only the EXPLAIN's own words are scanned,
 * not the statement.
 */
static int
explained_statement_start(const char *source, int location)
{
	core_yy_extra_type extra;
	core_YYSTYPE value;
	YYLTYPE		token_location = 0;
	core_yyscan_t scanner;
	int			skipped[3];
	int			start = -1;
	int			depth = 0;
	int			token;

	skipped[0] = ScanKeywordLookup("analyze", &ScanKeywords);
	skipped[1] = ScanKeywordLookup("analyse", &ScanKeywords);
	skipped[2] = ScanKeywordLookup("verbose", &ScanKeywords);
	for (int i = 0; i < 3; i++)
		skipped[i] = skipped[i] >= 0 ? ScanKeywordTokens[skipped[i]] : -1;
	scanner = scanner_init(source + location, &extra, &ScanKeywords, ScanKeywordTokens);
	/*
	 * The parser has read this text already, and said what it had to: settings changed since (a
	 * SET earlier in the same string) must not make the scanner warn or raise about a string in
	 * the options again.
	 */
	extra.escape_string_warning = false;
	extra.backslash_quote = BACKSLASH_QUOTE_ON;
	/* The first token is EXPLAIN itself. */
	if (core_yylex(&value, &token_location, scanner) > 0)
	{
		while ((token = core_yylex(&value, &token_location, scanner)) > 0)
		{
			if (token == '(')
				depth++;
			else if (token == ')' && depth > 0)
				depth--;
			else if (depth == 0 && token != skipped[0] && token != skipped[1] && token != skipped[2])
			{
				start = location + token_location;
				break;
			}
		}
	}
	scanner_finish(scanner);
	return start;
}

/* The planner installed before ours, or PostgreSQL's. */
static PlannedStmt *
call_planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* Whether an expression tree or query holds a parameter the client supplies. */
static bool
holds_client_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXTERN;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, holds_client_param, context, 0);
	return expression_tree_walker(node, holds_client_param, context);
}

/*
 * Whether steering may consider a client's statement: a SELECT over two relations or more
 * (arms change join methods and scans), without row locks or data-modifying CTEs, and not a
 * generic cached plan (one planned without the values of the client's parameters: whatever
 * plan it gets is reused for every value).
 */
static bool
steerable_query(Query *parse, ParamListInfo boundParams)
{
	return parse->commandType == CMD_SELECT &&
		parse->utilityStmt == NULL &&
		parse->rowMarks == NIL &&
		!parse->hasModifyingCTE &&
		list_length(parse->rtable) >= 2 &&
		!(boundParams == NULL &&
		  query_tree_walker(parse, holds_client_param, NULL, 0));
}

/*
 * Plans a copy of the query under an arm's settings. The settings are saved and restored with a
 * GUC nest level however planning ends. Also what microlora.predict_arms() plans with.
 */
PlannedStmt *
microlora_plan_arm(int arm, Query *pristine, const char *query_string, int cursorOptions,
				   ParamListInfo boundParams)
{
	int			nest = NewGUCNestLevel();
	PlannedStmt *plan = NULL;

	PG_TRY();
	{
		const char *name;
		const char *value;

		for (int i = 0; (name = microlora_arm_setting(arm, i, &value)) != NULL; i++)
			(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
									 true, 0, false);
		plan = call_planner(copyObject(pristine), query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		AtEOXact_GUC(true, nest);
	}
	PG_END_TRY();
	return plan;
}

/*
 * Plans the statement under the arms steer.rs asks for and returns the plan that runs. All of it
 * runs in an internal subtransaction with interrupts held, in a memory context of its own: if it
 * fails, the failure is logged and rolled back (settings included), and the default plan runs.
 * The arms' plans are freed; the one that runs is copied out first.
 */
static PlannedStmt *
steer(Query *pristine, PlannedStmt *default_plan, const char *query_string, int cursorOptions,
	  ParamListInfo boundParams)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	uint32		caller_holdoff = InterruptHoldoffCount;
	uint32		caller_cancel_holdoff = QueryCancelHoldoffCount;
	MemoryContext arms_context;
	PlannedStmt *volatile chosen = default_plan;
	volatile int chosen_arm = 0;

	if (!IsTransactionState() || IsInParallelMode())
		return default_plan;
	arms_context = AllocSetContextCreate(caller_context, "microlora steering",
										 ALLOCSET_DEFAULT_SIZES);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(arms_context);
	PG_TRY();
	{
		PlannedStmt *plans[MAX_ARMS] = {0};
		int			arms = Min(microlora_arm_count(), MAX_ARMS);
		int			ahead;

		HOLD_INTERRUPTS();
		ahead = microlora_steer_ahead(default_plan);
		if (ahead >= 0)
		{
			int			arm;

			for (arm = 1; arm < arms && microlora_steer_planning_left(); arm++)
			{
				if (ahead > 0 && arm != ahead)
					continue;
				plans[arm] = microlora_plan_arm(arm, pristine, query_string, cursorOptions,
												boundParams);
				microlora_steer_consider(arm, plans[arm]);
			}
			arm = microlora_steer_choose();
			if (arm > 0 && arm < arms && plans[arm] != NULL)
			{
				MemoryContextSwitchTo(caller_context);
				chosen = copyObject(plans[arm]);
				chosen_arm = arm;
			}
		}
		RESUME_INTERRUPTS();
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		skip_failure("steering a statement", caller_context, caller_holdoff, caller_cancel_holdoff);
		chosen = default_plan;
		chosen_arm = 0;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
	MemoryContextDelete(arms_context);
	microlora_steer_planned(chosen, chosen_arm);
	return chosen;
}

static PlannedStmt *
microlora_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	PlannedStmt *plan;
	Query	   *pristine = NULL;
	instr_time	started;
	instr_time	planning;
	/* The statement a client's EXPLAIN explains: planned as steering would run it, dry. */
	bool		explained = nesting_level == 1 && explain_source != NULL &&
		query_string == explain_source;
	/* Where the statement's own text lies in query_string. */
	int			text_location = parse->stmt_location;
	int			text_length = parse->stmt_len;

	INSTR_TIME_SET_CURRENT(started);
	if ((nesting_level == 0 || explained) && microlora_steer_mode() != 0)
	{
		microlora_steer_forget();
		/* The planner scribbles on its input: the arms plan copies of the query as it came. */
		if (steerable_query(parse, boundParams))
			pristine = copyObject(parse);
		if (explained)
		{
			text_location = explained_start;
			text_length = explained_end - explained_start;
		}
	}
	plan = call_planner(parse, query_string, cursorOptions, boundParams);
	INSTR_TIME_SET_CURRENT(planning);
	INSTR_TIME_SUBTRACT(planning, started);
	/* The default plan's planning time: what planning each arm is expected to cost. */
	if (pristine != NULL &&
		microlora_steer_begin(plan, query_string, text_location, text_length,
							  INSTR_TIME_GET_MILLISEC(planning), explained))
	{
		plan = steer(pristine, plan, query_string, cursorOptions, boundParams);
		INSTR_TIME_SET_CURRENT(planning);
		INSTR_TIME_SUBTRACT(planning, started);
	}
	microlora_count_planning((uint64) (INSTR_TIME_GET_DOUBLE(planning) * 1e9));
	return plan;
}

static void
microlora_ProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						 ProcessUtilityContext context, ParamListInfo params,
						 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	/* EXECUTE runs a statement the client prepared: it stays at the client's level. */
	bool		nests = !IsA(pstmt->utilityStmt, ExecuteStmt);
	/* A client's EXPLAIN, whose statement steering plans as it would run it. */
	bool		explains = nesting_level == 0 && IsA(pstmt->utilityStmt, ExplainStmt) &&
		microlora_steer_mode() != 0;

	if (explains)
	{
		int			location = Max(pstmt->stmt_location, 0);

		explained_start = explained_statement_start(queryString, location);
		explained_end = pstmt->stmt_len > 0 ? location + pstmt->stmt_len : (int) strlen(queryString);
		if (explained_start >= 0 && explained_start < explained_end)
			explain_source = queryString;
	}
	if (nests)
		nesting_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
								dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (nests)
			nesting_level--;
		if (explains)
			explain_source = NULL;
	}
	PG_END_TRY();
}

static void
request_shared_memory(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	microlora_shmem_request();
}

static void
start_shared_memory(void)
{
	if (prev_shmem_startup)
		prev_shmem_startup();
	microlora_shmem_startup();
	microlora_load_state();
}

#if PG_VERSION_NUM >= 180000
/*
 * EXPLAIN (MICROLORA), from PostgreSQL 18 on (its extension EXPLAIN options): per plan node the
 * operator scope microlora learns it under, its predicted own time (without its inputs', over all
 * its loops) and its rows per loop as learned; per plan the plan's predicted time and the arm
 * steering plans the statement with, and why. What it prints is read in an internal
 * subtransaction (catalog lookups, the shared learner): should that fail, it is logged and
 * EXPLAIN prints its own output only.
 */

/* Filled in by microlora_explain (pg_extension/src/explain.rs), which says what each field is. */
typedef struct MicroloraExplainedNode
{
	const Plan *plan;
	const char *scope;
	double		predicted_ms;
	double		learned_rows;
} MicroloraExplainedNode;

typedef struct MicroloraExplainedPlan
{
	MicroloraExplainedNode *nodes;
	int			node_count;
	double		predicted_ms;
	const char *steering;
	int			arms_planned;
	double		planning_ms;
} MicroloraExplainedPlan;

extern void microlora_explain(PlannedStmt *plan, MicroloraExplainedPlan *out);

/* The option's value for one EXPLAIN, and what was read for the plan it prints now. */
typedef struct ExplainOptions
{
	bool		enabled;
	PlannedStmt *described;
	MicroloraExplainedPlan plan;
} ExplainOptions;

static int	explain_extension_id;
static explain_per_node_hook_type prev_explain_per_node = NULL;
static explain_per_plan_hook_type prev_explain_per_plan = NULL;

static void
explain_option(ExplainState *es, DefElem *opt, ParseState *pstate)
{
	ExplainOptions *options = GetExplainExtensionState(es, explain_extension_id);

	if (options == NULL)
	{
		options = palloc0(sizeof(ExplainOptions));
		SetExplainExtensionState(es, explain_extension_id, options);
	}
	options->enabled = defGetBoolean(opt);
}

static void
explain_describe(void *arg)
{
	ExplainOptions *options = arg;

	microlora_explain(options->described, &options->plan);
}

/* The options of an EXPLAIN (MICROLORA), with what microlora says of the plan it prints now. */
static ExplainOptions *
explained_options(ExplainState *es)
{
	ExplainOptions *options = GetExplainExtensionState(es, explain_extension_id);

	if (options == NULL || !options->enabled)
		return NULL;
	if (options->described != es->pstmt)
	{
		memset(&options->plan, 0, sizeof(options->plan));
		options->described = es->pstmt;
		(void) in_subtransaction("describing a plan for EXPLAIN", explain_describe, options);
	}
	return options;
}

static void
microlora_explain_per_node(PlanState *planstate, List *ancestors, const char *relationship,
						   const char *plan_name, ExplainState *es)
{
	ExplainOptions *options;

	if (prev_explain_per_node)
		prev_explain_per_node(planstate, ancestors, relationship, plan_name, es);
	options = explained_options(es);
	if (options == NULL)
		return;
	for (int i = 0; i < options->plan.node_count; i++)
	{
		MicroloraExplainedNode *node = &options->plan.nodes[i];

		if (node->plan != planstate->plan)
			continue;
		ExplainPropertyText("Microlora Scope", node->scope, es);
		if (!isnan(node->predicted_ms))
			ExplainPropertyFloat("Microlora Predicted Time", "ms", node->predicted_ms, 3, es);
		ExplainPropertyFloat("Microlora Learned Rows", NULL, node->learned_rows, 0, es);
		break;
	}
}

static void
microlora_explain_per_plan(PlannedStmt *plannedstmt, IntoClause *into, ExplainState *es,
						   const char *queryString, ParamListInfo params,
						   QueryEnvironment *queryEnv)
{
	ExplainOptions *options;

	if (prev_explain_per_plan)
		prev_explain_per_plan(plannedstmt, into, es, queryString, params, queryEnv);
	options = explained_options(es);
	if (options == NULL || options->plan.steering == NULL)
		return;
	ExplainPropertyFloat("Microlora Predicted Time", "ms", options->plan.predicted_ms, 3, es);
	ExplainPropertyText("Microlora Steering", options->plan.steering, es);
	if (options->plan.arms_planned > 0 || es->format != EXPLAIN_FORMAT_TEXT)
	{
		ExplainPropertyInteger("Microlora Arms Planned", NULL, options->plan.arms_planned, es);
		ExplainPropertyFloat("Microlora Arms Planning Time", "ms", options->plan.planning_ms, 3, es);
	}
}
#endif

/* Installs every hook, saving the previous ones. Called once, from _PG_init. */
void
microlora_install_hooks(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = microlora_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = microlora_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = microlora_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = microlora_ExecutorEnd;
	prev_planner = planner_hook;
	planner_hook = microlora_planner;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = microlora_ProcessUtility;
	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = request_shared_memory;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = start_shared_memory;
#if PG_VERSION_NUM >= 180000
	explain_extension_id = GetExplainExtensionId("microlora");
	RegisterExtensionExplainOption("microlora", explain_option);
	prev_explain_per_node = explain_per_node_hook;
	explain_per_node_hook = microlora_explain_per_node;
	prev_explain_per_plan = explain_per_plan_hook;
	explain_per_plan_hook = microlora_explain_per_plan;
#endif
}

/* The current nesting level, for tests. */
int
microlora_nesting_level(void)
{
	return nesting_level;
}
