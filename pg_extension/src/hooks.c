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

#include "access/parallel.h"
#include "nodes/nodeFuncs.h"
#include "utils/guc.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "optimizer/planner.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
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
extern bool microlora_steer_begin(PlannedStmt *plan, const char *query_string, double planning_ms);
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
 * Learns from an executed statement in an internal subtransaction; see the file header. A
 * subtransaction needs a transaction running normally (a cursor closed while its transaction
 * aborts is ended without one) and no parallel operation in progress: without them, the
 * statement is not learned from.
 */
static void
observe_in_subtransaction(QueryDesc *queryDesc, bool with_times)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	uint32		caller_holdoff = InterruptHoldoffCount;
	uint32		caller_cancel_holdoff = QueryCancelHoldoffCount;

	if (!IsTransactionState() || IsInParallelMode())
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		HOLD_INTERRUPTS();
		microlora_observe_statement(queryDesc, with_times);
		RESUME_INTERRUPTS();
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		skip_failure("learning from a statement", caller_context, caller_holdoff,
					 caller_cancel_holdoff);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
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
 * Whether steering may consider a statement: a client's SELECT over two relations or more
 * (arms change join methods and scans), without row locks or data-modifying CTEs, and not a
 * generic cached plan (one planned without the values of the client's parameters: whatever
 * plan it gets is reused for every value).
 */
static bool
steerable_query(Query *parse, ParamListInfo boundParams)
{
	return nesting_level == 0 &&
		parse->commandType == CMD_SELECT &&
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

	INSTR_TIME_SET_CURRENT(started);
	if (nesting_level == 0 && microlora_steer_mode() != 0)
	{
		microlora_steer_forget();
		/* The planner scribbles on its input: the arms plan copies of the query as it came. */
		if (steerable_query(parse, boundParams))
			pristine = copyObject(parse);
	}
	plan = call_planner(parse, query_string, cursorOptions, boundParams);
	INSTR_TIME_SET_CURRENT(planning);
	INSTR_TIME_SUBTRACT(planning, started);
	/* The default plan's planning time: what planning each arm is expected to cost. */
	if (pristine != NULL &&
		microlora_steer_begin(plan, query_string, INSTR_TIME_GET_MILLISEC(planning)))
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
}

/* The current nesting level, for tests. */
int
microlora_nesting_level(void)
{
	return nesting_level;
}
