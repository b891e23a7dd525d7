# 按钮开灯：按住按钮时 LED 亮，松开就灭（在页面的虚拟实验台上按按钮试试）。
# Button → LED: the LED is on while the button is held (try the button on the bench).
from signal import pause

from gpiozero import LED, Button

led = LED(17)
button = Button(26)

button.when_pressed = led.on      # 按下：开灯 / pressed: LED on
button.when_released = led.off    # 松开：关灯 / released: LED off
print("Press the button / 请按按钮")
pause()                           # 一直等着，直到按“停止” / wait until Stop
