/* labkit's Blockly blocks and their Python generators.

   The Python is what a student would type on the Python tab: gpiozero devices on the kit's
   pins (`led = LED(17)`; the sandbox's pin factory forwards them to the kit) and
   labkit.program's Camera("kit"), say(), sensor() and heard(). Labels and the kit's wiring come from
   the page (#code-blocks-config, rendered by labkit/web/code_blocks.py), so the blocks speak
   the page's language and use the school's own wiring.

   window.LabkitBlocks:
     setup(config)          define the blocks (once) and return the toolbox
     generate(workspace)    the workspace's Python
     types()                every labkit block type registered (for the generation test)
     sample(type)           a tiny workspace (serialization JSON) using one block
     generateSample(type)   sample(type) loaded into a headless workspace → its Python
*/
(function () {
  "use strict";
  const PY = window.python;
  const Order = PY.Order;
  const gen = PY.pythonGenerator;
  const PREFIX = "labkit_";
  const HUE = { camera: 20, outputs: 120, sensors: 190, kit: 290 };
  const RGB = {
    red: "(1, 0, 0)", orange: "(1, 0.4, 0)", yellow: "(1, 1, 0)", green: "(0, 1, 0)",
    blue: "(0, 0, 1)", purple: "(0.6, 0, 1)", white: "(1, 1, 1)", black: "(0, 0, 0)",
  };
  const GESTURES = ["open_palm", "fist", "point", "victory", "thumbs_up", "ok"];
  const EMOTIONS = ["happy", "sad", "surprise", "angry", "fear", "disgust", "neutral"];
  const COLOURS = ["red", "orange", "yellow", "green", "blue", "purple"];
  const SHAPES = ["triangle", "square", "rectangle", "circle", "pentagon", "hexagon"];
  const TASKS = ["face", "hands", "pose", "shapes", "text"];
  const DEVICE_NAMES = ["led", "rgb", "servo", "buzzer", "fan", "pump", "button", "motion", "camera"];

  let config = null;
  let toolbox = null;
  const L = (key) => (config.labels && config.labels[key]) || key;
  const choices = (keys, prefix) => keys.map((k) => [L((prefix || "") + k), k]);

  // ---- what the generated program needs at its top ---------------------------------------
  function need(generator, from, name) {
    generator.definitions_["import_" + from + "_" + name] = "from " + from + " import " + name;
  }

  function pinArgs(device) {
    const p = device.pins;
    switch (device.type) {
      case "RGBLED": return "red=" + p.red + ", green=" + p.green + ", blue=" + p.blue;
      case "AngularServo":
        return p.pin + ", min_angle=" + (device.min_angle ?? -90) + ", max_angle=" + (device.max_angle ?? 90);
      default: return String(p.pin);
    }
  }

  function device(generator, name) {
    const spec = config.devices[name];
    if (!spec) throw new Error("the kit's wiring has no " + name);
    need(generator, "gpiozero", spec.type);
    generator.definitions_["device_" + name] = name + " = " + spec.type + "(" + pinArgs(spec) + ")";
    return name;
  }

  function camera(generator) {
    need(generator, "labkit.program", "Camera");
    generator.definitions_["device_camera"] = 'camera = Camera("kit")';
    return "camera";
  }

  const quote = (text) => gen.quote_(String(text));

  // ---- the blocks --------------------------------------------------------------------------
  function dropdown(name, options) {
    return { type: "field_dropdown", name, options };
  }

  function definitions() {
    const cam = { colour: HUE.camera, tooltip: L("tip_camera") };
    const out = { colour: HUE.outputs, tooltip: L("tip_output"), previousStatement: null, nextStatement: null };
    const sen = { colour: HUE.sensors, tooltip: L("tip_sensor") };
    const defs = [
      { type: "labkit_faces_count", message0: L("faces_count"), output: "Number", ...cam },
      { type: "labkit_faces_present", message0: L("faces_present"), output: "Boolean", ...cam },
      { type: "labkit_detect_count", message0: L("detect_count"), output: "Number", ...cam,
        args0: [dropdown("TASK", choices(TASKS, "task_"))] },
      { type: "labkit_hand_gesture", message0: L("hand_gesture"), output: "Boolean", ...cam,
        args0: [dropdown("GESTURE", choices(GESTURES))] },
      { type: "labkit_emotion_is", message0: L("emotion_is"), output: "Boolean", ...cam,
        args0: [dropdown("EMOTION", choices(EMOTIONS))] },
      { type: "labkit_colour_seen", message0: L("colour_seen"), output: "Boolean", ...cam,
        args0: [dropdown("COLOUR", choices(COLOURS))] },
      { type: "labkit_shape_seen", message0: L("shape_seen"), output: "Boolean", ...cam,
        args0: [dropdown("SHAPE", choices(SHAPES))] },
      { type: "labkit_text_read", message0: L("text_read"), output: "String", ...cam },
      { type: "labkit_predict_is", message0: L("predict_is"), output: "Boolean", ...cam,
        tooltip: L("tip_predict"),
        args0: [{ type: "field_input", name: "PROJECT", text: L("default_project") },
                { type: "field_input", name: "LABEL", text: L("default_class") }] },
      { type: "labkit_led", message0: L("led"), ...out,
        args0: [dropdown("STATE", choices(["on", "off", "toggle"]))] },
      { type: "labkit_rgb", message0: L("rgb"), ...out,
        args0: [dropdown("COLOUR", choices(Object.keys(RGB)))] },
      { type: "labkit_servo", message0: L("servo"), ...out,
        args0: [{ type: "input_value", name: "ANGLE", check: "Number" }], inputsInline: true },
      { type: "labkit_buzzer", message0: L("buzzer"), ...out,
        args0: [dropdown("STATE", choices(["on", "off", "beep"]))] },
      { type: "labkit_fan", message0: L("fan"), ...out,
        args0: [dropdown("STATE", choices(["on", "off"]))] },
      { type: "labkit_pump", message0: L("pump"), ...out,
        args0: [dropdown("STATE", choices(["on", "off"]))] },
      { type: "labkit_button_pressed", message0: L("button_pressed"), output: "Boolean", ...sen },
      { type: "labkit_motion", message0: L("motion"), output: "Boolean", ...sen },
      { type: "labkit_sound_level", message0: L("sound_level"), output: "Number", ...sen },
      { type: "labkit_heard", message0: L("heard"), output: "Boolean", ...sen, tooltip: L("tip_heard"),
        args0: [{ type: "field_input", name: "WORD", text: config.default_word || "开灯" }] },
      { type: "labkit_sensor", message0: L("sensor"), output: "Number", ...sen,
        args0: [dropdown("SENSOR", choices(config.sensors.length ? config.sensors : ["light"]))] },
      { type: "labkit_say", message0: L("say"), colour: HUE.kit, previousStatement: null,
        nextStatement: null, args0: [{ type: "input_value", name: "TEXT" }], inputsInline: true },
      { type: "labkit_wait", message0: L("wait"), colour: HUE.kit, previousStatement: null,
        nextStatement: null, args0: [{ type: "input_value", name: "SECONDS", check: "Number" }],
        inputsInline: true },
      { type: "labkit_forever", message0: L("forever"), colour: HUE.kit, previousStatement: null,
        args0: [{ type: "input_statement", name: "DO" }] },
    ];
    return defs;
  }

  const detect = (generator, task, extra) =>
    camera(generator) + ".detect(" + quote(task) + (extra || "") + ")";

  function generators() {
    const f = gen.forBlock;
    f.labkit_faces_count = (b, g) => ["len(" + camera(g) + ".faces())", Order.FUNCTION_CALL];
    f.labkit_faces_present = (b, g) => ["bool(" + camera(g) + ".faces())", Order.FUNCTION_CALL];
    f.labkit_detect_count = (b, g) => [detect(g, b.getFieldValue("TASK")) + ".count", Order.MEMBER];
    f.labkit_hand_gesture = (b, g) =>
      [detect(g, "hands") + ".label == " + quote(b.getFieldValue("GESTURE")), Order.RELATIONAL];
    f.labkit_emotion_is = (b, g) =>
      [detect(g, "emotion") + ".label == " + quote(b.getFieldValue("EMOTION")), Order.RELATIONAL];
    f.labkit_colour_seen = (b, g) =>
      [detect(g, "colour", ", colour=" + quote(b.getFieldValue("COLOUR"))) + ".present", Order.MEMBER];
    f.labkit_shape_seen = (b, g) =>
      [detect(g, "shapes") + ".label == " + quote(b.getFieldValue("SHAPE")), Order.RELATIONAL];
    f.labkit_text_read = (b, g) => [detect(g, "text") + ".label", Order.MEMBER];
    f.labkit_predict_is = (b, g) =>
      [camera(g) + ".predict(" + quote(b.getFieldValue("PROJECT")) + ").label == " +
       quote(b.getFieldValue("LABEL")), Order.RELATIONAL];
    f.labkit_led = (b, g) => device(g, "led") + "." + b.getFieldValue("STATE") + "()\n";
    f.labkit_rgb = (b, g) => device(g, "rgb") + ".color = " + RGB[b.getFieldValue("COLOUR")] + "\n";
    f.labkit_servo = (b, g) => {
      const angle = g.valueToCode(b, "ANGLE", Order.NONE) || "0";
      const spec = config.devices.servo || {};
      const lo = spec.min_angle ?? -90, hi = spec.max_angle ?? 90;
      return device(g, "servo") + ".angle = max(" + lo + ", min(" + hi + ", " + angle + "))\n";
    };
    f.labkit_buzzer = (b, g) => {
      const state = b.getFieldValue("STATE");
      const name = device(g, "buzzer");
      if (state === "beep") return name + ".beep(0.2, 0.2, n=1)\n";
      return name + "." + state + "()\n";
    };
    f.labkit_fan = (b, g) => device(g, "fan") + "." + b.getFieldValue("STATE") + "()\n";
    f.labkit_pump = (b, g) => device(g, "pump") + "." + b.getFieldValue("STATE") + "()\n";
    f.labkit_button_pressed = (b, g) => [device(g, "button") + ".is_pressed", Order.MEMBER];
    f.labkit_motion = (b, g) => [device(g, "motion") + ".motion_detected", Order.MEMBER];
    f.labkit_sensor = (b, g) => {
      need(g, "labkit.program", "sensor");
      return ["sensor(" + quote(b.getFieldValue("SENSOR")) + ")", Order.FUNCTION_CALL];
    };
    f.labkit_sound_level = (b, g) => {
      need(g, "labkit.program", "sound_level");
      return ["sound_level()", Order.FUNCTION_CALL];
    };
    f.labkit_heard = (b, g) => {
      need(g, "labkit.program", "heard");
      return ["heard(" + quote(b.getFieldValue("WORD")) + ")", Order.FUNCTION_CALL];
    };
    f.labkit_say = (b, g) => {
      need(g, "labkit.program", "say");
      return "say(str(" + (g.valueToCode(b, "TEXT", Order.NONE) || quote(L("default_say"))) + "))\n";
    };
    f.labkit_wait = (b, g) => {
      need(g, "time", "sleep");
      return "sleep(" + (g.valueToCode(b, "SECONDS", Order.NONE) || "1") + ")\n";
    };
    f.labkit_forever = (b, g) => {
      // a short pause each time round keeps a loop that only reads the camera from
      // spinning the kit's processor; the generated Python shows it
      need(g, "time", "sleep");
      const body = g.statementToCode(b, "DO") || "";
      return "while True:\n" + body + g.INDENT + "sleep(0.05)\n";
    };
  }

  // ---- the toolbox ---------------------------------------------------------------------------
  const num = (n) => ({ shadow: { type: "math_number", fields: { NUM: n } } });
  const txt = (t) => ({ shadow: { type: "text", fields: { TEXT: t } } });

  function makeToolbox() {
    const has = (name) => Boolean(config.devices[name]);
    const block = (type, inputs) => (inputs ? { kind: "block", type, inputs } : { kind: "block", type });
    const outputs = [];
    if (has("led")) outputs.push(block("labkit_led"));
    if (has("rgb")) outputs.push(block("labkit_rgb"));
    if (has("servo")) outputs.push(block("labkit_servo", { ANGLE: num(0) }));
    if (has("buzzer")) outputs.push(block("labkit_buzzer"));
    if (has("fan")) outputs.push(block("labkit_fan"));
    if (has("pump")) outputs.push(block("labkit_pump"));
    const sensors = [];
    if (has("button")) sensors.push(block("labkit_button_pressed"));
    if (has("motion")) sensors.push(block("labkit_motion"));
    if (config.sensors.length) sensors.push(block("labkit_sensor"));
    sensors.push(block("labkit_sound_level"));
    sensors.push(block("labkit_heard"));
    return {
      kind: "categoryToolbox",
      contents: [
        { kind: "category", name: L("cat_camera"), colour: String(HUE.camera), contents: [
          block("labkit_faces_present"), block("labkit_faces_count"), block("labkit_detect_count"),
          block("labkit_hand_gesture"), block("labkit_emotion_is"), block("labkit_colour_seen"),
          block("labkit_shape_seen"), block("labkit_text_read"), block("labkit_predict_is")] },
        { kind: "category", name: L("cat_outputs"), colour: String(HUE.outputs), contents: outputs },
        { kind: "category", name: L("cat_sensors"), colour: String(HUE.sensors), contents: sensors },
        { kind: "category", name: L("cat_kit"), colour: String(HUE.kit), contents: [
          block("labkit_say", { TEXT: txt(L("default_say")) }), block("labkit_wait", { SECONDS: num(1) }),
          block("labkit_forever"), block("text_print", { TEXT: txt(L("default_say")) })] },
        { kind: "category", name: L("cat_logic"), categorystyle: "logic_category", contents: [
          block("controls_if"), block("logic_compare"), block("logic_operation"),
          block("logic_negate"), block("logic_boolean")] },
        { kind: "category", name: L("cat_loops"), categorystyle: "loop_category", contents: [
          block("controls_repeat_ext", { TIMES: num(10) }), block("controls_whileUntil"),
          block("controls_for", { FROM: num(1), TO: num(10), BY: num(1) }), block("controls_flow_statements")] },
        { kind: "category", name: L("cat_math"), categorystyle: "math_category", contents: [
          block("math_number"), block("math_arithmetic"), block("math_round"),
          block("math_random_int", { FROM: num(1), TO: num(6) })] },
        { kind: "category", name: L("cat_text"), categorystyle: "text_category", contents: [
          block("text"), block("text_join"), block("text_length")] },
        { kind: "category", name: L("cat_variables"), categorystyle: "variable_category", custom: "VARIABLE" },
      ],
    };
  }

  // ---- public --------------------------------------------------------------------------------
  function setup(cfg) {
    if (toolbox) return toolbox;
    config = cfg;
    Blockly.common.defineBlocksWithJsonArray(definitions());
    generators();
    gen.addReservedWords(DEVICE_NAMES.join(",") + ",sensor,sound_level,heard,say,sleep,Camera");
    gen.INDENT = "    ";                 // PEP 8, as the Python tab and the examples indent
    toolbox = makeToolbox();
    return toolbox;
  }

  function generate(workspace) {
    return gen.workspaceToCode(workspace);
  }

  function types() {
    return Object.keys(Blockly.Blocks).filter((t) => t.startsWith(PREFIX)).sort();
  }

  /** One block in the smallest program that uses it: a value block inside print(), a
      statement block on its own (its value inputs filled as the toolbox fills them). */
  function sample(type) {
    const def = Blockly.Blocks[type];
    if (!def) throw new Error("no block " + type);
    const probe = new Blockly.Workspace();
    let isValue;
    try {
      isValue = Boolean(probe.newBlock(type).outputConnection);
    } finally {
      probe.dispose();
    }
    const inputs = { ANGLE: num(30), TEXT: txt("你好"), SECONDS: num(0.5) };
    const own = {};
    for (const name of Object.keys(inputs)) {
      if ((JSON.stringify(definitions().find((d) => d.type === type) || {})).includes('"' + name + '"')) {
        own[name] = inputs[name];
      }
    }
    if (type === "labkit_forever") {
      own.DO = { block: { type: "labkit_wait", inputs: { SECONDS: num(1) } } };
    }
    const block = Object.keys(own).length ? { type, inputs: own } : { type };
    const top = isValue ? { type: "text_print", inputs: { TEXT: { block } } } : block;
    return { blocks: { languageVersion: 0, blocks: [top] } };
  }

  function generateSample(type) {
    const ws = new Blockly.Workspace();
    try {
      Blockly.serialization.workspaces.load(sample(type), ws);
      return generate(ws);
    } finally {
      ws.dispose();
    }
  }

  window.LabkitBlocks = { setup, generate, types, sample, generateSample };
})();
