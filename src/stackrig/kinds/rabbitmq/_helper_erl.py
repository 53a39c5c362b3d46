"""The Erlang source of stackrig's control helper inside a RabbitMQ node (compiled once per Erlang
version by `_helper.compile_helper`)."""

__all__ = ["ERLANG_SOURCE"]

ERLANG_SOURCE = r'''%% stackrig's control helper inside a RabbitMQ node it runs for tests (loaded with -pa, started by
%% -eval before `rabbit boot`).  It listens on 127.0.0.1 only, on a port stackrig allocated, and
%% answers requests carrying the run's secret token.  Frames are {packet, 4}: a 4-byte length and
%% a JSON object (rabbit_json).  Requests:
%%
%%   {"op": "ping"}                                -> {"ok": true, "rabbitmq": "3.10.8"}
%%   {"op": "snapshot", "vhost": V}                -> {"ok": true, "baseline": B, "queues": N, ...}
%%   {"op": "reset", "vhost": V, "baseline": B}    -> what was purged, deleted, restored
%%   {"op": "slice", "vhost": V, "user": U, "definitions": JSON}
%%                                                  -> the vhost (re)created, permissions, tracing,
%%                                                     the per-vhost definitions imported
%%   {"op": "exchange", "vhost": V, "name": N}    -> {"ok": true, "exists": true, "type": "topic"}
%%   {"op": "watch", "vhost": V}                   -> {"ok": true}, then one frame per topology
%%                                                     change in V: {"event": "queue_created", "name": N}
%%
%% B is opaque to the caller (term_to_binary, base64): the queues, exchanges and bindings of the
%% vhost when the snapshot was taken.  Exclusive queues (taps, reply queues) are connection-scoped:
%% never part of a baseline, purged but never deleted, and `watch` does not report them.
-module(stackrig_rabbit).
-behaviour(gen_event).

-export([start/0, start/2]).
-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2, code_change/3]).

-define(USER, <<"stackrig">>).

start() ->
    Port = list_to_integer(os:getenv("STACKRIG_RMQ_CONTROL_PORT")),
    Token = list_to_binary(os:getenv("STACKRIG_RMQ_CONTROL_TOKEN")),
    start(Port, Token).

start(Port, Token) ->
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> listen(Parent, Port, Token) end),
    receive
        {Pid, listening} -> erlang:demonitor(Ref, [flush]), ok;
        {'DOWN', Ref, process, Pid, Reason} -> erlang:error({stackrig_control_listen_failed, Port, Reason})
    after 10000 -> erlang:error({stackrig_control_listen_timeout, Port})
    end.

listen(Parent, Port, Token) ->
    {ok, L} = gen_tcp:listen(Port, [binary, {packet, 4}, {active, false}, {reuseaddr, true},
                                    {ip, {127, 0, 0, 1}}, {backlog, 128}, {nodelay, true}]),
    register(stackrig_rabbit_listener, self()),
    Parent ! {self(), listening},
    accept(L, Token).

accept(L, Token) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> serve(S, Token) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! go,
            accept(L, Token);
        {error, closed} -> ok;
        {error, _} -> accept(L, Token)
    end.

serve(S, Token) ->
    case gen_tcp:recv(S, 0) of
        {ok, Bin} ->
            Reply = try
                        Req = rabbit_json:decode(Bin),
                        case maps:get(<<"token">>, Req, undefined) of
                            Token -> handle(maps:get(<<"op">>, Req, undefined), Req, S);
                            _ -> #{ok => false, error => <<"bad token">>}
                        end
                    catch Class:Reason:Stack ->
                        #{ok => false, error => fmt("~p:~p ~P", [Class, Reason, Stack, 12])}
                    end,
            case Reply of
                {watching, Req2} ->
                    ok = gen_tcp:send(S, rabbit_json:encode(#{ok => true})),
                    watch_loop(S, maps:get(<<"vhost">>, Req2));
                _ ->
                    ok = gen_tcp:send(S, rabbit_json:encode(Reply)),
                    serve(S, Token)
            end;
        {error, _} ->
            gen_tcp:close(S)
    end.

fmt(F, A) -> iolist_to_binary(io_lib:format(F, A)).

handle(<<"ping">>, _Req, _S) ->
    {ok, Vsn} = application:get_key(rabbit, vsn),
    #{ok => true, rabbitmq => list_to_binary(Vsn)};
handle(<<"snapshot">>, Req, _S) ->
    VHost = maps:get(<<"vhost">>, Req),
    Base = #{queues := Qs, exchanges := Xs, bindings := Bs} = snapshot(VHost),
    #{ok => true, baseline => base64:encode(term_to_binary(Base)),
      queues => [N || {N, _, _, _} <- Qs], exchanges => [element(1, X) || X <- Xs], bindings => length(Bs)};
handle(<<"reset">>, Req, _S) ->
    VHost = maps:get(<<"vhost">>, Req),
    Base = binary_to_term(base64:decode(maps:get(<<"baseline">>, Req)), [safe]),
    reset(VHost, Base);
handle(<<"slice">>, Req, _S) ->
    slice(maps:get(<<"vhost">>, Req), maps:get(<<"user">>, Req), maps:get(<<"definitions">>, Req, <<>>));
handle(<<"watch">>, Req, _S) ->
    {watching, Req};
handle(<<"exchange">>, Req, _S) ->
    XName = rabbit_misc:r(maps:get(<<"vhost">>, Req), exchange, maps:get(<<"name">>, Req)),
    case rabbit_exchange:lookup(XName) of
        {ok, X} -> [{type, T}] = rabbit_exchange:info(X, [type]), #{ok => true, exists => true, type => T};
        {error, not_found} -> #{ok => true, exists => false}
    end;
handle(Op, _Req, _S) ->
    #{ok => false, error => fmt("unknown op ~p", [Op])}.

%% -- snapshot and reset ------------------------------------------------------------------------

qname(Q) -> element(4, amqqueue:get_name(Q)).

exclusive(Q) -> amqqueue:get_exclusive_owner(Q) =/= none.

snapshot(VHost) ->
    Qs = [{qname(Q), amqqueue:is_durable(Q), amqqueue:is_auto_delete(Q), amqqueue:get_arguments(Q)}
          || Q <- rabbit_amqqueue:list(VHost), not exclusive(Q)],
    Xs = [exchange_info(X) || X <- rabbit_exchange:list(VHost), user_exchange(X)],
    Exclusive = exclusive_queues(VHost),
    Bs = [binding_id(B) || B <- rabbit_binding:list(VHost), user_binding(B, Exclusive)],
    #{queues => Qs, exchanges => Xs, bindings => Bs}.

exchange_info(X) ->
    [{name, N}, {type, T}, {durable, D}, {auto_delete, A}, {internal, I}, {arguments, Args}] =
        rabbit_exchange:info(X, [name, type, durable, auto_delete, internal, arguments]),
    {element(4, N), T, D, A, I, Args}.

user_exchange(X) ->
    case element(4, element(2, X)) of
        <<>> -> false;
        <<"amq.", _/binary>> -> false;
        _ -> true
    end.

exclusive_queues(VHost) ->
    [qname(Q) || Q <- rabbit_amqqueue:list(VHost), exclusive(Q)].

user_binding({binding, Src, _Key, Dst, _Args}, Exclusive) ->
    element(4, Src) =/= <<>> andalso
        not (element(3, Dst) =:= queue andalso lists:member(element(4, Dst), Exclusive)).

binding_id({binding, Src, Key, Dst, Args}) ->
    {element(4, Src), Key, element(3, Dst), element(4, Dst), lists:sort(Args)}.

reset(VHost, #{queues := BaseQs, exchanges := BaseXs, bindings := BaseBs}) ->
    BaseQNames = [N || {N, _, _, _} <- BaseQs],
    %% queues: purge what stays, delete what the test declared (unless someone consumes from it)
    {Purged, Msgs, Deleted, Kept} =
        lists:foldl(
          fun(Q, {P, M, D, K}) ->
                  Name = qname(Q),
                  Keep = lists:member(Name, BaseQNames) orelse exclusive(Q),
                  {Ready, Consumers} = stat(Q),
                  if
                      Keep orelse Consumers > 0 ->
                          K2 = case Keep of true -> K; false -> [Name | K] end,
                          case Ready of
                              0 -> {P, M, D, K2};
                              _ -> {[Name | P], M + purge(Q), D, K2}
                          end;
                      true ->
                          _ = rabbit_amqqueue:delete(Q, false, false, ?USER),
                          {P, M + Ready, [Name | D], K}
                  end
          end, {[], 0, [], []}, rabbit_amqqueue:list(VHost)),
    %% exchanges the test declared
    BaseXNames = [element(1, X) || X <- BaseXs],
    XDeleted = [begin _ = rabbit_exchange:delete(element(2, X), false, ?USER), element(4, element(2, X)) end
                || X <- rabbit_exchange:list(VHost), user_exchange(X),
                   not lists:member(element(4, element(2, X)), BaseXNames)],
    %% bindings the test added (bindings to what was deleted went with it)
    Exclusive = exclusive_queues(VHost),
    Unbound = [begin _ = rabbit_binding:remove(B, ?USER), binding_id(B) end
               || B <- rabbit_binding:list(VHost), user_binding(B, Exclusive),
                  not lists:member(binding_id(B), BaseBs)],
    %% what the test deleted from the baseline comes back (not auto-delete ones: they go by design)
    XNow = [element(4, element(2, X)) || X <- rabbit_exchange:list(VHost)],
    XRestored = [begin {ok, _} = declare_exchange(VHost, X), element(1, X) end
                 || X = {N, _, _, AutoDelete, _, _} <- BaseXs, not AutoDelete, not lists:member(N, XNow)],
    QNow = [qname(Q) || Q <- rabbit_amqqueue:list(VHost)],
    QRestored = [begin declare_queue(VHost, Q), N end
                 || Q = {N, _, AutoDelete, _} <- BaseQs, not AutoDelete, not lists:member(N, QNow)],
    BNow = [binding_id(B) || B <- rabbit_binding:list(VHost)],
    Present = fun(Kind, Name) ->
                      case Kind of
                          queue -> lists:member(Name, QNow) orelse lists:member(Name, QRestored);
                          exchange -> lists:member(Name, XNow) orelse lists:member(Name, XRestored)
                      end
              end,
    BRestored = [begin ok = add_binding(VHost, Id), Id end
                 || Id = {Src, _, DKind, DName, _} <- BaseBs, not lists:member(Id, BNow),
                    Present(exchange, Src), Present(DKind, DName)],
    #{ok => true, purged => lists:reverse(Purged), messages => Msgs, deleted => lists:reverse(Deleted),
      kept => lists:reverse(Kept), exchanges_deleted => XDeleted, bindings_removed => length(Unbound),
      restored => XRestored ++ QRestored, bindings_restored => length(BRestored)}.

stat(Q) ->
    case catch rabbit_amqqueue:stat(Q) of
        {ok, Ready, Consumers} -> {Ready, Consumers};
        _ -> {0, 0}
    end.

purge(Q) ->
    case catch rabbit_amqqueue:purge(Q) of
        {ok, N} when is_integer(N) -> N;
        _ -> 0
    end.

declare_exchange(VHost, {Name, Type, Durable, AutoDelete, Internal, Args}) ->
    X = rabbit_exchange:declare(rabbit_misc:r(VHost, exchange, Name), Type, Durable, AutoDelete, Internal,
                                Args, ?USER),
    {ok, X}.

declare_queue(VHost, {Name, Durable, AutoDelete, Args}) ->
    rabbit_amqqueue:declare(rabbit_misc:r(VHost, queue, Name), Durable, AutoDelete, Args, none, ?USER).

add_binding(VHost, {Src, Key, DKind, DName, Args}) ->
    case rabbit_binding:add({binding, rabbit_misc:r(VHost, exchange, Src), Key,
                             rabbit_misc:r(VHost, DKind, DName), Args}, ?USER) of
        ok -> ok;
        {error, binding_exists} -> ok;
        Other -> Other
    end.

%% -- slices (pytest-xdist workers) ---------------------------------------------------------

slice(VHost, User, Definitions) ->
    case rabbit_vhost:exists(VHost) of
        true -> _ = rabbit_vhost:delete(VHost, ?USER);
        false -> ok
    end,
    ok = rabbit_vhost:add(VHost, ?USER),
    ok = rabbit_auth_backend_internal:set_permissions(User, VHost, <<".*">>, <<".*">>, <<".*">>, ?USER),
    ok = rabbit_trace:start(VHost),
    Imported = case Definitions of
                   <<>> -> ok;
                   _ -> rabbit_definitions:import_raw(Definitions, VHost)
               end,
    case Imported of
        ok -> #{ok => true, vhost => VHost};
        {error, E} -> #{ok => false, error => fmt("importing the definitions into vhost ~s: ~p", [VHost, E])}
    end.

%% -- watch: topology changes, pushed as they happen -------------------------------------

watch_loop(S, VHost) ->
    ok = gen_event:add_sup_handler(rabbit_event, {?MODULE, make_ref()}, {self(), VHost}),
    ok = inet:setopts(S, [{active, once}]),
    watch_wait(S).

watch_wait(S) ->
    receive
        {stackrig_event, Type, Name} ->
            case gen_tcp:send(S, rabbit_json:encode(#{event => Type, name => Name})) of
                ok -> watch_wait(S);
                {error, _} -> gen_tcp:close(S)
            end;
        {gen_event_EXIT, _Handler, Reason} ->
            _ = gen_tcp:send(S, rabbit_json:encode(#{event => <<"lost">>, name => fmt("~p", [Reason])})),
            gen_tcp:close(S);
        {tcp, S, _} -> ok = inet:setopts(S, [{active, once}]), watch_wait(S);
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

%% gen_event callbacks (run in the rabbit_event manager: cheap, and never crash it)
init({Pid, VHost}) -> {ok, #{pid => Pid, vhost => VHost, exclusive => #{}}}.

handle_event({event, Type, Props, _Ref, _TS}, State) ->
    try
        case proplists:get_value(user_who_performed_action, Props) of
            ?USER -> {ok, State};  % what a reset itself did is no change of the test's
            _ -> {ok, watched(Type, Props, State)}
        end
    catch _:_ -> {ok, State}
    end;
handle_event(_, State) -> {ok, State}.

watched(Type, Props, State = #{pid := Pid, vhost := VHost, exclusive := Excl})
  when Type =:= queue_created; Type =:= queue_deleted ->
    {resource, V, queue, Name} = proplists:get_value(name, Props),
    case V of
        VHost ->
            IsExcl = proplists:get_value(exclusive, Props, false) =:= true
                orelse is_pid(proplists:get_value(owner_pid, Props)) orelse maps:is_key(Name, Excl),
            %% (an exclusive queue's name is kept after it is deleted: the events of its bindings may
            %% come after its own; server names are unique, so the map only grows by what taps make)
            case {Type, IsExcl} of
                {queue_created, true} -> State#{exclusive := Excl#{Name => true}};
                {queue_deleted, true} -> State;
                _ -> Pid ! {stackrig_event, atom_to_binary(Type), Name}, State
            end;
        _ -> State
    end;
watched(Type, Props, State = #{pid := Pid, vhost := VHost})
  when Type =:= exchange_created; Type =:= exchange_deleted ->
    case proplists:get_value(name, Props) of
        {resource, VHost, exchange, Name} -> Pid ! {stackrig_event, atom_to_binary(Type), Name}, State;
        _ -> State
    end;
watched(Type, Props, State = #{pid := Pid, vhost := VHost, exclusive := Excl})
  when Type =:= binding_created; Type =:= binding_deleted ->
    case proplists:get_value(vhost, Props) of
        VHost ->
            Dest = proplists:get_value(destination_name, Props),
            DKind = proplists:get_value(destination_kind, Props),
            case DKind =:= queue andalso maps:is_key(Dest, Excl) of
                true -> State;
                false -> Pid ! {stackrig_event, atom_to_binary(Type),
                                fmt("~s -> ~s", [proplists:get_value(source_name, Props), Dest])},
                         State
            end;
        _ -> State
    end;
watched(_, _, State) -> State.

handle_call(_, State) -> {ok, ok, State}.
handle_info(_, State) -> {ok, State}.
terminate(_, _) -> ok.
code_change(_, State, _) -> {ok, State}.
'''
