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
extern void microlora_observe_statement(QueryDesc *query_desc);
extern void microlora_count_planning(uint64 planning_ns);
extern void microlora_shmem_request(void);
extern void microlora_shmem_startup(void);
extern void microlora_load_state(void);

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

static void
microlora_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (nesting_level < MAX_TRACKED_LEVEL)
	{
		bool		sampled = microlora_sample_statement(nesting_level, eflags);

		sampled_at_level[nesting_level] = sampled;
		if (sampled)
			queryDesc->instrument_options |= INSTRUMENT_TIMER | INSTRUMENT_ROWS;
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
microlora_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					  bool execute_once)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting_level--;
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
 * Learns from an executed statement in an internal subtransaction; see the file header. A
 * subtransaction needs a transaction running normally and no parallel operation in progress:
 * without them, the statement is not learned from.
 */
static void
observe_in_subtransaction(QueryDesc *queryDesc)
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
		microlora_observe_statement(queryDesc);
		RESUME_INTERRUPTS();
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* errfinish() zeroes the holdoff counts before it jumps here. */
		InterruptHoldoffCount = caller_holdoff;
		QueryCancelHoldoffCount = caller_cancel_holdoff;
		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		ereport(LOG,
				(errmsg("microlora: learning from a statement failed and was skipped: %s",
						edata->message ? edata->message : "(no message)")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
}

static void
microlora_ExecutorEnd(QueryDesc *queryDesc)
{
	if (nesting_level < MAX_TRACKED_LEVEL && sampled_at_level[nesting_level])
	{
		sampled_at_level[nesting_level] = false;
		observe_in_subtransaction(queryDesc);
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

static PlannedStmt *
microlora_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	PlannedStmt *plan;
	instr_time	started;
	instr_time	planning;

	INSTR_TIME_SET_CURRENT(started);
	if (prev_planner)
		plan = prev_planner(parse, query_string, cursorOptions, boundParams);
	else
		plan = standard_planner(parse, query_string, cursorOptions, boundParams);
	INSTR_TIME_SET_CURRENT(planning);
	INSTR_TIME_SUBTRACT(planning, started);
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
